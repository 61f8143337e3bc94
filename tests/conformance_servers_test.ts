/**
 * The conformance kit held to its own standard, for servers: a correct
 * server in another language (Python) passes every check; each broken
 * server, differing from it in one way, fails exactly the checks meant for
 * its flaw and no other; and every check is failed by some broken server.
 */

import assert from "node:assert/strict";
import { SERVER_CHECKS } from "../tools/conformance/server_checks.ts";
import {
  assertEveryCheckCaught,
  describeResults,
  flawsOf,
  inBatches,
  kitOptions,
  notPassed,
  pythonServer,
  runConformance,
  SERVER_PY,
  wrongRows,
} from "./support/conformance.ts";

/** Each broken server, and the checks it must fail (and no others). */
const BROKEN_SERVERS: Record<string, string[]> = {
  // The ones other implementations show most.
  "own-wording": [
    "login-101",
    "login-102",
    "port",
    "to-303-304",
    "toall-303",
    "exit",
    "unknown-401",
    "appendix",
  ],
  "auth-401": ["login-102"],
  "broadcast": ["toall-line", "appendix"],
  "lb-own-address": ["port"],
  "listen5": ["crowd"],
  "startup-traceback": ["missing-users-file", "port-in-use"],
  // Handout.
  "no-retry": ["login-again"],
  "from-format": ["from-line", "appendix"],
  // 303 sent at once: every check that waits for a 304 sees a 303.
  "no-wait": [
    "to-303-304",
    "toall-303",
    "receipt-not-302",
    "client-vanishes",
    "silent-receiver-304",
  ],
  "list-commas": ["list-301", "appendix"],
  "no-lock": ["one-at-a-time"],
  // Decisions.
  "list-sorted": ["list-order"],
  "double-login": ["login-twice"],
  "no-auth-check": ["before-login"],
  "port-lax": ["port-rules"],
  "strip-content": ["content-bytes"],
  "no-line-limit": ["line-limit"],
  "no-crlf": ["crlf"],
  "prefix-commands": ["extra-words"],
  "toall-alone-304": ["toall-alone"],
  "no-self": ["to-self"],
  "any-receipt": ["receipt-not-302"],
  "lb-first": ["before-port"],
  // Robustness.
  "keeps-gone-users": ["client-vanishes"],
  "global-lock": ["silent-receiver-others"],
  "no-reply-timeout": ["silent-receiver-304"],
  // Each recv() taken for a line: long lines come apart.
  "recv-chunks": ["long-line", "split-lines", "line-limit"],
  "utf8-crash": ["invalid-utf8"],
};

Deno.test("conformance: a correct server in Python passes every check in every group", async () => {
  const results = await runConformance(kitOptions("server", pythonServer()));
  assert.deepEqual(notPassed(results), [], describeResults(results));
  assert.equal(results.length, SERVER_CHECKS.length);
});

Deno.test("conformance: each broken server fails exactly the checks meant for its flaw", async () => {
  assert.deepEqual(
    Object.keys(BROKEN_SERVERS).sort(),
    flawsOf(SERVER_PY).sort(),
    "every flaw of server.py has a row in the table",
  );
  const rows = Object.entries(BROKEN_SERVERS);
  const outcomes = await inBatches(
    rows.map(([flaw]) => () =>
      runConformance(kitOptions("server", pythonServer(flaw), { jobs: 2 }))
    ),
    6,
  );
  const wrong = wrongRows(BROKEN_SERVERS, outcomes);
  assert.deepEqual(wrong, [], wrong.join("\n\n"));
});

Deno.test("conformance: every server check is failed by some broken server", () => {
  assertEveryCheckCaught(BROKEN_SERVERS, SERVER_CHECKS);
});
