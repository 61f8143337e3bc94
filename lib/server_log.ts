/**
 * The server's event log: one line per event, as text for people or as JSON
 * for machines. Events never carry a password.
 *
 * @module
 */

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
  return `${time.toISOString()} ${level} ${event.message}`;
}
