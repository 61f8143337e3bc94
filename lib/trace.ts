/**
 * Prints protocol lines in the notation of the handout's Appendix:
 * `00:21 SERVER(a): 301 jacky bob michael`.
 *
 * @module
 */

import { formatLogin, parseCommand } from "./protocol.ts";

/** One line crossing a link, for tracing. */
export interface TraceEvent {
  /** The link: `a` carries commands and replies, `b` incoming chat. */
  link: "a" | "b";
  /** Who sent the line. */
  from: "CLIENT" | "SERVER";
  /** The line, without its `\n`. */
  line: string;
}

/** What a hidden password is shown as. */
export const HIDDEN_PASSWORD = "********";

/**
 * `MM:SS` for a time in seconds, as the Appendix writes it; `--:--` for a
 * time before the clock started.
 */
export function formatClock(seconds: number | undefined): string {
  if (seconds === undefined) return "--:--";
  const whole = Math.max(0, Math.floor(seconds));
  const minutes = String(Math.floor(whole / 60)).padStart(2, "0");
  return `${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

/**
 * One traced line: `<MM:SS> <CLIENT|SERVER>(<a|b>): <line>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTrace } from "./trace.ts";
 *
 * assert.equal(
 *   formatTrace(21, { link: "a", from: "SERVER", line: "301 jacky bob" }),
 *   "00:21 SERVER(a): 301 jacky bob",
 * );
 * ```
 */
export function formatTrace(
  seconds: number | undefined,
  event: TraceEvent,
): string {
  return `${formatClock(seconds)} ${event.from}(${event.link}): ${event.line}`;
}

/**
 * `event` with the password of a `/login` line replaced by
 * {@linkcode HIDDEN_PASSWORD}; any other line is left as it is.
 */
export function hidePassword<T extends TraceEvent>(event: T): T {
  if (event.from !== "CLIENT" || event.link !== "a") return event;
  const command = parseCommand(event.line);
  if (command.kind !== "login") return event;
  return { ...event, line: formatLogin(command.user, HIDDEN_PASSWORD) };
}

/** Options for {@linkcode tracePrinter}. */
export interface TracePrinterOptions {
  /** The clock, in milliseconds; defaults to `performance.now`. */
  now?: () => number;
  /** Show passwords in `/login` lines (default: hidden). */
  showPasswords?: boolean;
}

/**
 * A trace callback that prints each line crossing a link with
 * {@linkcode formatTrace}, timed from when the printer was made (the
 * Appendix's 00:00 is the moment the client starts).
 */
export function tracePrinter(
  print: (line: string) => void,
  options: TracePrinterOptions = {},
): (event: TraceEvent) => void {
  const now = options.now ?? (() => performance.now());
  const zero = now();
  return (event) => {
    const shown = options.showPasswords ? event : hidePassword(event);
    print(formatTrace((now() - zero) / 1000, shown));
  };
}
