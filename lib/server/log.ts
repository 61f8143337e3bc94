/**
 * The server's event log: one line per event, as text for people or as JSON
 * for machines. Events never carry a password.
 *
 * @module
 */

import { describeError } from "../errors.ts";

/** How much an event matters: `error` events are kept by `--quiet`. */
export type LogLevel = "info" | "error";

/** The formats {@linkcode formatLogEvent} writes. */
export type LogFormat = "text" | "json";

/** One thing that happened in the server. */
export interface LogEvent {
  /** How much it matters. */
  level: LogLevel;
  /** A short stable name, such as `login` or `delivery-failed`. */
  event: string;
  /** A sentence for people. */
  message: string;
  /** The user concerned, once known. */
  user?: string;
  /** The client's address and port. */
  peer?: string;
  /** Why it happened (for failures and logouts). */
  cause?: string;
  /** How long it took, in milliseconds. */
  ms?: number;
  /** The receiving user, for deliveries. */
  to?: string;
  /** The cluster node that logged it, on a cluster. */
  node?: string;
}

/** Formats `event` as one line, stamped with `time`. */
export function formatLogEvent(
  event: LogEvent,
  format: LogFormat,
  time: Date = new Date(),
): string {
  if (format === "json") {
    return JSON.stringify({ time: time.toISOString(), ...event });
  }
  const level = event.level === "error" ? "ERROR" : "INFO ";
  const node = event.node === undefined ? "" : `[${event.node}] `;
  return `${time.toISOString()} ${level} ${node}${event.message}`;
}

/**
 * Where a server's events go: to a sink, filtered by level. With no sink,
 * nothing is built or kept.
 */
export class EventLog {
  /**
   * Whether `info` events are kept. Check it before building an event on a
   * hot path.
   */
  readonly info: boolean;
  readonly #sink: ((event: LogEvent) => void) | undefined;

  /** Keeps events at `level` and above, handing each to `sink`. */
  constructor(
    sink: ((event: LogEvent) => void) | undefined,
    level: LogLevel = "info",
  ) {
    this.#sink = sink;
    this.info = sink !== undefined && level === "info";
  }

  /** Hands `event` to the sink if its level is kept. */
  emit(event: LogEvent): void {
    if (event.level === "info" && !this.info) return;
    this.#sink?.(event);
  }

  /** Logs a fault of the server's own, which it survives. */
  internalError(error: unknown): void {
    const cause = describeError(error);
    this.emit({
      level: "error",
      event: "internal-error",
      message: `internal error: ${cause}`,
      cause,
    });
  }
}
