/**
 * Unit tests for the trace printer shared by the demo and `--trace`.
 */

import assert from "node:assert/strict";
import type { TraceEvent } from "../lib/trace.ts";
import {
  formatClock,
  formatTrace,
  HIDDEN_PASSWORD,
  hidePassword,
  tracePrinter,
} from "../lib/trace.ts";

Deno.test("formatTrace: the Appendix's notation", () => {
  assert.equal(
    formatTrace(21, {
      link: "a",
      from: "SERVER",
      line: "301 jacky bob michael",
    }),
    "00:21 SERVER(a): 301 jacky bob michael",
  );
  assert.equal(
    formatTrace(51.9, {
      link: "b",
      from: "CLIENT",
      line: "302 Message receipt successful",
    }),
    "00:51 CLIENT(b): 302 Message receipt successful",
  );
  assert.equal(formatClock(110), "01:50");
  assert.equal(formatClock(undefined), "--:--");
});

Deno.test("hidePassword: only the password of a /login line is hidden", () => {
  const login: TraceEvent = {
    link: "a",
    from: "CLIENT",
    line: "/login jacky 12345",
  };
  assert.deepEqual(hidePassword(login), {
    ...login,
    line: `/login jacky ${HIDDEN_PASSWORD}`,
  });
  const others: TraceEvent[] = [
    { link: "a", from: "CLIENT", line: "/to bob /login jacky 12345" },
    { link: "a", from: "CLIENT", line: "/login jacky" },
    { link: "a", from: "SERVER", line: "101 Authentication successful" },
    { link: "b", from: "SERVER", line: "/from bob hi" },
  ];
  for (const event of others) assert.deepEqual(hidePassword(event), event);
  // Other fields (the server's user label, say) are kept.
  const labelled = { ...login, user: "jacky" };
  assert.equal(hidePassword(labelled).user, "jacky");
});

Deno.test("tracePrinter: timed from its creation, passwords hidden", () => {
  let now = 5_000;
  const printed: string[] = [];
  const trace = tracePrinter((line) => printed.push(line), { now: () => now });
  trace({ link: "a", from: "CLIENT", line: "/login jacky 12345" });
  now += 21_400;
  trace({ link: "a", from: "SERVER", line: "301 jacky bob michael" });
  now += 30_000;
  trace({ link: "b", from: "CLIENT", line: "302 Message receipt successful" });
  assert.deepEqual(printed, [
    `00:00 CLIENT(a): /login jacky ${HIDDEN_PASSWORD}`,
    "00:21 SERVER(a): 301 jacky bob michael",
    "00:51 CLIENT(b): 302 Message receipt successful",
  ]);

  const shown: string[] = [];
  tracePrinter((line) => shown.push(line), { showPasswords: true })({
    link: "a",
    from: "CLIENT",
    line: "/login jacky 12345",
  });
  assert.deepEqual(shown, ["00:00 CLIENT(a): /login jacky 12345"]);
});
