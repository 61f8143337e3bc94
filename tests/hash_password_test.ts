/**
 * `tools/hash_password.ts` (`deno task hash-password <user>`) as a real
 * process: the password comes from a pipe on standard input, the users-file
 * line goes to standard output, mistakes give a one-line error and the
 * documented exit codes (2 for wrong arguments, 1 for a bad password).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyPassword } from "../lib/server/credentials.ts";
import { parseUsers } from "../lib/server/users_file.ts";
import {
  assertOneLine,
  type ExitResult,
  REPO_ROOT,
  START_TIMEOUT_MS,
  TestProcess,
} from "./support/processes.ts";

const SCRIPT = join(REPO_ROOT, "tools", "hash_password.ts");

/** Runs the script with `args`, writes `input` to its stdin, closes it. */
async function hashPasswordRun(
  args: string[],
  input: string,
): Promise<ExitResult> {
  await using child = new TestProcess({
    name: "hash_password",
    args: ["run", SCRIPT, ...args],
  });
  // The script may exit (wrong arguments) before reading: a broken pipe is
  // then no failure of the test.
  await child.write(input).catch(() => {});
  await child.closeStdin();
  return await child.waitForExit(START_TIMEOUT_MS);
}

Deno.test("hash_password: prints `<user> scrypt$…` for the piped password, and verifyPassword accepts it", async () => {
  const result = await hashPasswordRun(["bob"], "S3cret-pa55\n");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.length, 1, result.stdout.join("\n"));
  const line = result.stdout[0];
  assert.match(
    line,
    /^bob scrypt\$N=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/,
  );
  const stored = line.slice("bob ".length);
  assert.equal(await verifyPassword(stored, "S3cret-pa55"), true);
  assert.equal(await verifyPassword(stored, "S3cret-pa5"), false);
  // The line goes into a users file as it is.
  assert.deepEqual(parseUsers(line + "\n"), new Map([["bob", stored]]));
});

Deno.test("hash_password: a CRLF line end or none at all is not part of the password", async () => {
  for (const input of ["crlf-pass\r\n", "crlf-pass"]) {
    const result = await hashPasswordRun(["carol"], input);
    assert.equal(result.code, 0, result.stderr);
    const [name, stored] = result.stdout[0].split(" ");
    assert.equal(name, "carol");
    assert.equal(
      await verifyPassword(stored, "crlf-pass"),
      true,
      JSON.stringify(input),
    );
  }
});

Deno.test("hash_password: no user name is a usage error (exit 2)", async () => {
  const result = await hashPasswordRun([], "whatever\n");
  assert.equal(result.code, 2, result.stderr);
  assert.deepEqual(result.stdout, []);
  assert.match(result.stderr, /usage/);
});

Deno.test("hash_password: two user names, or one with a space, are usage errors (exit 2)", async () => {
  for (const args of [["bob", "alice"], ["bo b"]]) {
    const result = await hashPasswordRun(args, "whatever\n");
    assert.equal(result.code, 2, `${args}: ${result.stderr}`);
    assert.deepEqual(result.stdout, []);
  }
});

Deno.test("hash_password: a password with a space is refused (exit 1, one line, no hash)", async () => {
  const result = await hashPasswordRun(["bob"], "two words\n");
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(result.stdout, []);
  const error = assertOneLine(result, "hash_password");
  assert.match(error, /space/);
  assert.ok(!error.includes("two words"), "the error repeats the password");
});

Deno.test("hash_password: an empty password is refused (exit 1)", async () => {
  for (const input of ["", "\n"]) {
    const result = await hashPasswordRun(["bob"], input);
    assert.equal(result.code, 1, `${JSON.stringify(input)}: ${result.stderr}`);
    assert.deepEqual(result.stdout, []);
    assertOneLine(result, "hash_password");
  }
});
