/**
 * Reading a `server.ts` process's text log (standard error) and timing
 * what it does: its lines, found by pattern, and bounds on how long a
 * timeout or a delay took.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pollUntil, waitForStderr } from "./faults.ts";
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
    .map(messageOf);
}

/** A text log line without its time and level. */
function messageOf(line: string): string {
  return line.replace(/^\S+ (INFO |ERROR) /, "");
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
 * Waits until the server has logged exactly `count` lines whose message
 * matches `message`; fails if it logs more. Reads only what is new on each
 * look, for logs of many thousand lines.
 */
export async function waitForLogCount(
  server: TestProcess,
  message: RegExp,
  count: number,
  timeoutMs = 30_000,
): Promise<void> {
  let seen = 0;
  let offset = 0;
  await pollUntil(
    () => {
      const end = server.stderr.lastIndexOf("\n") + 1;
      seen += server.stderr.slice(offset, end).split("\n")
        .filter((line) => message.test(messageOf(line))).length;
      offset = end;
      return seen >= count;
    },
    () => `the server logged ${seen} of ${count} lines matching ${message}`,
    timeoutMs,
  );
  assert.equal(seen, count, `lines logged matching ${message}`);
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
