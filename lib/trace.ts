/**
 * Prints protocol lines in the notation of the handout's Appendix:
 * `00:21 SERVER(a): 301 jacky bob michael`.
 *
 * @module
 */

import type { TraceEvent } from "./client.ts";

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
 * formatTrace(21, { link: "a", from: "SERVER", line: "301 jacky bob michael" });
 * // "00:21 SERVER(a): 301 jacky bob michael"
 * ```
 */
export function formatTrace(
  seconds: number | undefined,
  event: TraceEvent,
): string {
  return `${formatClock(seconds)} ${event.from}(${event.link}): ${event.line}`;
}
