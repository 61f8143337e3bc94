/**
 * Command-line errors of `server.ts` and `client.ts`, run as real processes:
 * wrong arguments give a usage line and exit code 2; a bad users file, a
 * port in use or an unreachable server give one error line and exit code 1;
 * never a stack trace.
 *
 * @module
 */

import assert from "node:assert/strict";
import { basename, join } from "node:path";
import {
  assertNoStackTrace,
  assertOneLine,
  type ExitResult,
  freePort,
  makeScratchDir,
  ProcessScope,
  removeScratchDir,
  USERS_FILE,
} from "./support/processes.ts";

const EXIT_MS = 10_000;

function assertUsage(result: ExitResult, who: string): void {
  assertNoStackTrace(result.stderr, who);
  assert.equal(result.code, 2, `${who}: exit code\n${result.stderr}`);
  assert.ok(
    result.stderrLines.some((line) => /usage/i.test(line)),
    `${who}: no usage line on stderr:\n${result.stderr}`,
  );
  assert.deepEqual(result.stdout, [], `${who}: nothing on stdout`);
}

async function runServer(args: string[]): Promise<ExitResult> {
  await using scope = new ProcessScope();
  return await scope.spawnServer(args).waitForExit(EXIT_MS);
}

async function runClient(args: string[]): Promise<ExitResult> {
  await using scope = new ProcessScope();
  const client = scope.spawnClient(args);
  await client.closeStdin();
  return await client.waitForExit(EXIT_MS);
}

/** Runs the server on a free port with a users file holding `text`. */
async function runServerWithUsers(
  text: string,
): Promise<{ result: ExitResult; path: string }> {
  const dir = await makeScratchDir("im_users_");
  try {
    const path = join(dir, "users.txt");
    await Deno.writeTextFile(path, text);
    return { result: await runServer(["0", path]), path };
  } finally {
    await removeScratchDir(dir);
  }
}

const SERVER_USAGE_CASES: [string, string[]][] = [
  ["no arguments", []],
  ["one argument", ["0"]],
  ["three arguments", ["0", USERS_FILE, "extra"]],
  ['port "abc"', ["abc", USERS_FILE]],
  ['port "70000"', ["70000", USERS_FILE]],
  ['port "-1"', ["-1", USERS_FILE]],
];

for (const [what, args] of SERVER_USAGE_CASES) {
  Deno.test(`server with ${what}: usage line, exit 2`, async () => {
    assertUsage(await runServer(args), `server ${args.join(" ")}`);
  });
}

Deno.test("server with a missing users file: one line naming it, exit 1", async () => {
  const dir = await makeScratchDir("im_missing_");
  const path = join(dir, "no-such-users.txt");
  try {
    const result = await runServer(["0", path]);
    assert.equal(result.code, 1, result.stderr);
    const line = assertOneLine(result, "server");
    assert.ok(line.includes("no-such-users.txt"), line);
    assert.deepEqual(result.stdout, []);
  } finally {
    await removeScratchDir(dir);
  }
});

Deno.test("server with a directory as users file: one line naming it, exit 1", async () => {
  const dir = await makeScratchDir("im_dir_");
  try {
    const result = await runServer(["0", dir]);
    assert.equal(result.code, 1, result.stderr);
    const line = assertOneLine(result, "server");
    assert.ok(line.includes(basename(dir)), line);
  } finally {
    await removeScratchDir(dir);
  }
});

Deno.test("server with a malformed users file line: names the line number, exit 1", async () => {
  // Line 4 is malformed; the comment and blank line count as lines.
  const { result, path } = await runServerWithUsers(
    "# users\n\njacky 12345\nbob\nmichael mic456\n",
  );
  assert.equal(result.code, 1, result.stderr);
  const line = assertOneLine(result, "server");
  assert.ok(line.includes(basename(path)), `names the file: ${line}`);
  assert.match(line, /(:4\b|\bline\s*#?\s*4\b)/i, "names line 4");
  assert.deepEqual(result.stdout, []);
});

Deno.test("server with a three-word users file line: exit 1", async () => {
  const { result } = await runServerWithUsers("jacky 12345 extra\n");
  assert.equal(result.code, 1, result.stderr);
  const line = assertOneLine(result, "server");
  assert.match(line, /(:1\b|\bline\s*#?\s*1\b)/i, "names line 1");
});

Deno.test("server with a duplicate user: one line naming the user, exit 1", async () => {
  const { result, path } = await runServerWithUsers(
    "jacky 12345\nbob bob123\njacky other\n",
  );
  assert.equal(result.code, 1, result.stderr);
  const line = assertOneLine(result, "server");
  assert.ok(line.includes(basename(path)), `names the file: ${line}`);
  assert.ok(line.includes("jacky"), `names the user: ${line}`);
  assert.deepEqual(result.stdout, []);
});

Deno.test("server with blank and # lines in the users file starts", async () => {
  const dir = await makeScratchDir("im_users_");
  try {
    const path = join(dir, "users.txt");
    await Deno.writeTextFile(path, "# a comment\n\njacky 12345\n\n#x y z\n");
    await using scope = new ProcessScope();
    const server = await scope.startServer(path);
    const jacky = scope.startClient(server.port, "jacky");
    await jacky.login("jacky", "12345");
    assert.equal(await jacky.command("/list", "301"), "301 jacky");
  } finally {
    await removeScratchDir(dir);
  }
});

Deno.test("server on a port already in use: one line naming the port, exit 1", async () => {
  using listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = listener.addr.port;
  const result = await runServer([String(port), USERS_FILE]);
  assert.equal(result.code, 1, result.stderr);
  const line = assertOneLine(result, "server");
  assert.ok(line.includes(String(port)), `names port ${port}: ${line}`);
  assert.deepEqual(result.stdout, []);
});

const CLIENT_USAGE_CASES: [string, string[]][] = [
  ["no arguments", []],
  ["one argument", ["127.0.0.1"]],
  ["three arguments", ["127.0.0.1", "5000", "extra"]],
  ['port "abc"', ["127.0.0.1", "abc"]],
  ['port "70000"', ["127.0.0.1", "70000"]],
];

for (const [what, args] of CLIENT_USAGE_CASES) {
  Deno.test(`client with ${what}: usage line, exit 2`, async () => {
    assertUsage(await runClient(args), `client ${args.join(" ")}`);
  });
}

Deno.test("client to a port where nothing listens: one line, exit 1", async () => {
  const result = await runClient(["127.0.0.1", String(freePort())]);
  assert.equal(result.code, 1, result.stderr);
  assertOneLine(result, "client");
});
