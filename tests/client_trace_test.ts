/**
 * `client.ts --trace`: the real client, piped, prints every line crossing
 * its two links on standard error, timestamped, in the Appendix's notation.
 * Jacky's trace of the Appendix conversation is checked line by line against
 * the Appendix; standard output is the same as without `--trace`.
 */

import assert from "node:assert/strict";
import { JACKY, transcript } from "./fixtures/appendix.ts";
import {
  AUTH_OK,
  BUILD_OK,
  BYE,
  type ClientProcess,
  DELIVERED,
  PASSWORD_PROMPT,
  ProcessScope,
  USER_PROMPT,
} from "./support/processes.ts";

const TRACE_LINE = /^(\d\d):(\d\d) ((?:CLIENT|SERVER)\([ab]\): .*)$/;

/** Starts a client with `--trace`. */
function startTracing(
  scope: ProcessScope,
  port: number,
  name: string,
): ClientProcess {
  return scope.spawnClient(["--trace", "127.0.0.1", String(port)], name);
}

Deno.test("client --trace: jacky's links carry the Appendix, line by line", async () => {
  await using scope = new ProcessScope();
  const server = await scope.startServer();
  const bob = scope.startClient(server.port, "bob");
  const michael = scope.startClient(server.port, "michael");
  await bob.login("bob");
  await michael.login("michael");

  // 00:00 Jacky launches his client, with --trace.
  const jacky = startTracing(scope, server.port, "jacky");
  await jacky.login("jacky");
  assert.equal(await jacky.command("/list", "301"), "301 jacky bob michael");
  assert.equal(
    await jacky.command("/to bob Hello! Nice to meet you!", "30"),
    DELIVERED,
  );
  assert.equal(
    await jacky.command("/to michael Hi, Michael!", "30"),
    DELIVERED,
  );
  assert.equal(await michael.command("/to jacky Hi, Jacky!", "30"), DELIVERED);
  await jacky.waitForLine("/from michael Hi, Jacky!");
  assert.equal(
    await jacky.command("/toall How about meeting at 3pm today?", "30"),
    DELIVERED,
  );
  assert.equal(
    await bob.command("/to jacky Jacky, nice to meet you too!", "30"),
    DELIVERED,
  );
  assert.equal(await bob.command("/toall OK.", "30"), DELIVERED);
  assert.equal(await michael.command("/toall No problem.", "30"), DELIVERED);
  await jacky.waitForLine("/broadcastfrom michael No problem.");
  assert.equal(await jacky.command("/exit", "310"), BYE);
  const exit = await jacky.waitForExit();
  assert.equal(exit.code, 0, jacky.report());

  // Standard output is what it is without --trace.
  assert.deepEqual(exit.stdout, [
    USER_PROMPT,
    PASSWORD_PROMPT,
    AUTH_OK,
    BUILD_OK,
    "301 jacky bob michael",
    DELIVERED,
    DELIVERED,
    "/from michael Hi, Jacky!",
    DELIVERED,
    "/from bob Jacky, nice to meet you too!",
    "/broadcastfrom bob OK.",
    "/broadcastfrom michael No problem.",
    BYE,
  ]);

  // Standard error holds the trace, and only the trace.
  const traced = exit.stderrLines.map((line) => {
    const match = line.match(TRACE_LINE);
    assert.ok(match, `not a trace line: ${JSON.stringify(line)}`);
    return {
      seconds: Number(match[1]) * 60 + Number(match[2]),
      line: match[3],
    };
  });
  const expected = transcript(JACKY)
    .map((line) => line.replace(/^(CLIENT\(a\): \/port) \d+$/, "$1 N"))
    .map((line) => line.replace("/login jacky 12345", "/login jacky ********"));
  assert.deepEqual(
    traced.map(({ line }) =>
      line.replace(/^(CLIENT\(a\): \/port) \d+$/, "$1 N")
    ),
    expected,
  );
  // The clock starts at the client's start and never goes back.
  assert.equal(traced[0].seconds, 0);
  for (let i = 1; i < traced.length; i += 1) {
    assert.ok(traced[i].seconds >= traced[i - 1].seconds);
  }
  assert.ok(!exit.stderr.includes("12345"), "the password is not traced");
});

Deno.test("client without --trace prints nothing on standard error", async () => {
  await using scope = new ProcessScope();
  const server = await scope.startServer();
  const jacky = scope.startClient(server.port, "jacky");
  await jacky.login("jacky");
  assert.equal(await jacky.command("/list", "301"), "301 jacky");
  assert.equal(await jacky.command("/exit", "310"), BYE);
  const exit = await jacky.waitForExit();
  assert.equal(exit.code, 0);
  assert.equal(exit.stderr, "");
});
