/**
 * `deno task demo` shows the Appendix conversation: every line each user's
 * client exchanged on La and Lb, in the Appendix's notation and order.
 */

import assert from "node:assert/strict";
import { runDemo } from "../tools/demo.ts";
import { BOB, JACKY, MICHAEL, transcript } from "./fixtures/appendix.ts";

const TRACE = /^(\w+) +(\d\d:\d\d|--:--) ((?:CLIENT|SERVER)\([ab]\): .*)$/;

Deno.test("demo: each user's lines are the Appendix's, in its notation", async () => {
  const printed: string[] = [];
  const code = await runDemo({
    speed: 50,
    print: (line) => printed.push(line),
  });
  assert.equal(code, 0, printed.join("\n"));

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
});
