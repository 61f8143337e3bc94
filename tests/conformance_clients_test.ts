/**
 * The conformance kit held to its own standard, for clients: a correct
 * client in another language (Python) passes every check; each broken
 * client, differing from it in one way, fails exactly the checks meant for
 * its flaw and no other; and every check is failed by some broken client.
 */

import assert from "node:assert/strict";
import { CLIENT_CHECKS } from "../tools/conformance/client_checks.ts";
import {
  assertEveryCheckCaught,
  CLIENT_PY,
  describeResults,
  flawsOf,
  inBatches,
  kitOptions,
  notPassed,
  pythonClient,
  runConformance,
  wrongRows,
} from "./support/conformance.ts";

/** Each broken client, and the checks it must fail (and no others). */
const BROKEN_CLIENTS: Record<string, string[]> = {
  "ignores-202": ["quits-202"],
  "wrong-prompt": ["prompts", "reprompt-102"],
  "login-format": ["login-line", "appendix"],
  "port-format": ["port-line", "appendix"],
  "receipt-wording": ["chat-302", "appendix"],
  "no-echo": ["commands"],
  "single-thread": ["chat-while-waiting"],
  "no-exit-quit": ["exit-310"],
  // Our own client before it learnt to be liberal.
  "strict-login": ["liberal-login"],
  "unknown-fatal": ["unknown-lines"],
  "pipelines": ["typed-ahead"],
  "hangs-on-server-death": [
    "server-dies-login",
    "server-dies-idle",
    "server-dies-waiting",
  ],
  "tracebacks": ["no-server", "end-of-input"],
  "utf8-crash": ["invalid-utf8-chat"],
  "recv-chunks": ["long-chat-line", "split-chat"],
};

Deno.test("conformance: a correct client in Python passes every check in every group", async () => {
  const results = await runConformance(kitOptions("client", pythonClient()));
  assert.deepEqual(notPassed(results), [], describeResults(results));
  assert.equal(results.length, CLIENT_CHECKS.length);
});

Deno.test("conformance: each broken client fails exactly the checks meant for its flaw", async () => {
  assert.deepEqual(
    Object.keys(BROKEN_CLIENTS).sort(),
    flawsOf(CLIENT_PY).sort(),
    "every flaw of client.py has a row in the table",
  );
  const rows = Object.entries(BROKEN_CLIENTS);
  const outcomes = await inBatches(
    rows.map(([flaw]) => () =>
      runConformance(kitOptions("client", pythonClient(flaw)))
    ),
    6,
  );
  const wrong = wrongRows(BROKEN_CLIENTS, outcomes);
  assert.deepEqual(wrong, [], wrong.join("\n\n"));
});

Deno.test("conformance: every client check is failed by some broken client", () => {
  assertEveryCheckCaught(BROKEN_CLIENTS, CLIENT_CHECKS);
});
