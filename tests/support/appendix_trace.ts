/**
 * Checks a demo's printed trace against the handout's Appendix: each user's
 * lines on La and Lb, in the Appendix's notation and order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BOB, JACKY, MICHAEL, transcript } from "../fixtures/appendix.ts";

const TRACE = /^(\w+) +(\d\d:\d\d|--:--) ((?:CLIENT|SERVER)\([ab]\): .*)$/;

/**
 * Asserts that `printed` shows, for jacky, bob and michael, exactly the
 * Appendix's lines between 00:00 and the end, and jacky's `/list` answer.
 */
export function assertAppendixTrace(printed: string[]): void {
  const seen = new Map<string, { clock: string; line: string }[]>();
  for (const text of printed) {
    const match = text.match(TRACE);
    if (match === null) continue;
    const [, user, clock, line] = match;
    seen.set(user, [...seen.get(user) ?? [], { clock, line }]);
  }
  // Bob and michael log in before 00:00 (shown as --:--) and leave after
  // the Appendix ends; in between, every user's lines are the Appendix's.
  const shown = (user: string) =>
    (seen.get(user) ?? [])
      .filter(({ clock }) => clock !== "--:--")
      .map(({ line }) => line.replace(/^(CLIENT\(a\): \/port) \d+$/, "$1 N"));
  const farewell = ["CLIENT(a): /exit", "SERVER(a): 310 Bye bye"];

  assert.deepEqual(
    shown("jacky"),
    transcript(JACKY).map((line) => line.replace("/port 30232", "/port N")),
  );
  assert.deepEqual(shown("bob"), [...transcript(BOB), ...farewell]);
  assert.deepEqual(shown("michael"), [...transcript(MICHAEL), ...farewell]);
  assert.ok(
    printed.some((line) =>
      /^jacky +\d\d:\d\d SERVER\(a\): 301 jacky bob michael$/.test(line)
    ),
    printed.join("\n"),
  );
}
