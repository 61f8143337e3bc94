/**
 * Reading a `server.ts` process's text log (standard error) and timing
 * what it does: its lines, found by pattern, and bounds on how long a
 * timeout or a delay took.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitForStderr } from "./faults.ts";
import type { TestProcess } from "./processes.ts";

/**
 * How late a timeout may fire, or an answer come, on a loaded machine: the
 * suite runs its files side by side on two shared cores.
 */
export const LATE_MS = 3_000;

/** How early a timer may seem to fire, measured on this side (rounding). */
export const EARLY_MS = 20;

/** `text` with every character that means something in a pattern escaped. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The messages of the server's text log so far: each line of standard
 * error without its time and level.
 */
export function logMessages(server: TestProcess): string[] {
  return server.stderr.split("\n").filter((line) => line !== "")
    .map((line) => line.replace(/^\S+ (INFO |ERROR) /, ""));
}

/**
 * Waits until the server has logged a line whose message (after the time
 * and the level) matches `message`, and returns the message.
 */
export async function waitForLog(
  server: TestProcess,
  message: RegExp,
  timeoutMs?: number,
): Promise<string> {
  const find = () => logMessages(server).find((text) => message.test(text));
  await waitForStderr(
    server,
    () => find() !== undefined,
    `a log line matching ${message}`,
    timeoutMs,
  );
  return find()!;
}

/**
 * Asserts that `ms`, measured from just before the step that starts a
 * timeout to the moment its effect was seen, shows a wait of `expectedMs`:
 * never shorter, and not later than a loaded machine explains.
 */
export function assertWaited(ms: number, expectedMs: number, what: string) {
  assert.ok(
    ms >= expectedMs - EARLY_MS && ms < expectedMs + LATE_MS,
    `${what} after ${Math.round(ms)} ms; expected ${expectedMs} ms`,
  );
}

/** Milliseconds `action` takes. */
export async function timed(action: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await action();
  return performance.now() - started;
}
