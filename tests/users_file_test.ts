/**
 * Unit tests for the users file: `username password` per line, blank lines
 * and `#` lines ignored, `\r\n` accepted, and every problem reported as a
 * `UsersFileError` naming the file and, for a bad line, its line number.
 *
 * The tests that write files do so under a fresh `Deno.makeTempDir()`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  loadUsers,
  parseUsers,
  UsersFileError,
} from "../lib/server/users_file.ts";

const FIXTURE = fileURLToPath(new URL("./fixtures/users.txt", import.meta.url));

/** Runs `body` with a temporary directory that is removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "users_file_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts `action` throws a `UsersFileError` whose message matches. */
function assertUsersError(action: () => unknown, ...patterns: RegExp[]) {
  assert.throws(action, (error) => {
    assert.ok(
      error instanceof UsersFileError,
      `not a UsersFileError: ${error}`,
    );
    assert.equal(error.name, "UsersFileError");
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

/** A pattern for line number `n`, as `file:n` or `line n`. */
const lineNumber = (n: number): RegExp => new RegExp(`(?::|line )${n}\\b`);

/** Asserts `loadUsers(path)` rejects with a `UsersFileError` naming `path`. */
async function assertLoadFails(path: string, ...patterns: RegExp[]) {
  await assert.rejects(loadUsers(path), (error) => {
    assert.ok(error instanceof UsersFileError);
    assert.ok(error.message.includes(path), error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("parseUsers: one user per line", () => {
  const users = parseUsers("jacky 12345\nbob bob-pass\nmichael m1chael\n");
  assert.deepEqual(
    users,
    new Map([
      ["jacky", "12345"],
      ["bob", "bob-pass"],
      ["michael", "m1chael"],
    ]),
  );
});

Deno.test("parseUsers: the last line needs no newline", () => {
  assert.deepEqual(
    parseUsers("jacky 12345\nbob bob-pass"),
    new Map([["jacky", "12345"], ["bob", "bob-pass"]]),
  );
});

Deno.test("parseUsers: an empty file has no users", () => {
  assert.equal(parseUsers("").size, 0);
  assert.equal(parseUsers("\n\n").size, 0);
});

Deno.test("parseUsers: blank lines and # lines are ignored", () => {
  const text = [
    "# users for the demo",
    "",
    "jacky 12345",
    "   ",
    "\t",
    "#bob not-a-user",
    "  # indented comment",
    "bob bob-pass",
    "",
  ].join("\n");
  assert.deepEqual(
    parseUsers(text),
    new Map([["jacky", "12345"], ["bob", "bob-pass"]]),
  );
});

Deno.test("parseUsers: CRLF line ends are accepted", () => {
  const users = parseUsers("jacky 12345\r\n\r\n# c\r\nbob bob-pass\r\n");
  assert.deepEqual(users, new Map([["jacky", "12345"], ["bob", "bob-pass"]]));
  assert.equal(users.get("jacky"), "12345", "no CR left on the password");
});

Deno.test("parseUsers: tabs and repeated spaces separate the words", () => {
  assert.deepEqual(
    parseUsers("jacky\t12345\nbob  \t bob-pass\n  michael m1chael  \n"),
    new Map([
      ["jacky", "12345"],
      ["bob", "bob-pass"],
      ["michael", "m1chael"],
    ]),
  );
});

Deno.test("parseUsers: a password may contain #", () => {
  assert.deepEqual(parseUsers("bob pa#ss"), new Map([["bob", "pa#ss"]]));
});

Deno.test("parseUsers: a line without exactly two words names its line number", () => {
  assertUsersError(
    () => parseUsers("jacky 12345\n\nbob\nmichael m1chael\n"),
    lineNumber(3),
  );
  assertUsersError(
    () => parseUsers("# header\njacky 12345 extra\n"),
    lineNumber(2),
  );
  assertUsersError(
    () => parseUsers("jacky 12345\r\nbob bob-pass\r\na b c\r\n"),
    lineNumber(3),
  );
});

Deno.test("parseUsers: the error names the source", () => {
  assertUsersError(
    () => parseUsers("jacky\n", { source: "/etc/im/users.txt" }),
    /\/etc\/im\/users\.txt/,
    lineNumber(1),
  );
});

Deno.test("parseUsers: a duplicate user names the repeated line", () => {
  assertUsersError(
    () => parseUsers("jacky 12345\nbob bob-pass\n\njacky other\n"),
    lineNumber(4),
    /jacky/,
  );
  // Same name, same password: still a duplicate.
  assertUsersError(
    () => parseUsers("bob x\nbob x\n", { source: "users.txt" }),
    /users\.txt/,
    lineNumber(2),
  );
});

Deno.test("loadUsers: reads the test fixture", async () => {
  const users = await loadUsers(FIXTURE);
  assert.equal(users.get("jacky"), "12345");
  assert.ok(users.has("bob"));
  assert.ok(users.has("michael"));
});

Deno.test("loadUsers: a missing file is a UsersFileError naming the path", async () => {
  const path = fileURLToPath(
    new URL("./fixtures/no_such_users_file.txt", import.meta.url),
  );
  await assertLoadFails(path);
});

Deno.test("loadUsers: a directory is a UsersFileError naming the path", async () => {
  const path = fileURLToPath(new URL("./fixtures", import.meta.url));
  await assertLoadFails(path);
});

Deno.test({
  name: "loadUsers: reads a file with comments, blank lines, CRLF and tabs",
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "users.txt");
      await Deno.writeTextFile(
        path,
        "# demo users\r\njacky 12345\r\n\r\nbob\tbob-pass\r\nmichael m1chael",
      );
      assert.deepEqual(
        await loadUsers(path),
        new Map([
          ["jacky", "12345"],
          ["bob", "bob-pass"],
          ["michael", "m1chael"],
        ]),
      );
    }),
});

Deno.test({
  name: "loadUsers: a missing file in a temp dir names the path",
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "missing.txt");
      await assertLoadFails(path);
    }),
});

Deno.test({
  name: "loadUsers: a malformed line names the file and the line number",
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "users.txt");
      await Deno.writeTextFile(path, "jacky 12345\n# c\nbob\n");
      await assertLoadFails(path, lineNumber(3));
    }),
});

Deno.test({
  name: "loadUsers: a duplicate user names the file and the line number",
  fn: () =>
    withTempDir(async (dir) => {
      const path = join(dir, "users.txt");
      await Deno.writeTextFile(path, "jacky 1\nbob 2\njacky 3\n");
      await assertLoadFails(path, lineNumber(3));
    }),
});

Deno.test({
  name: "loadUsers: the error message is one line",
  fn: () =>
    withTempDir(async (dir) => {
      for (const text of ["jacky\n", "bob 1\nbob 2\n"]) {
        const path = join(dir, "users.txt");
        await Deno.writeTextFile(path, text);
        await assert.rejects(loadUsers(path), (error) => {
          assert.ok(error instanceof UsersFileError);
          assert.ok(!error.message.includes("\n"), error.message);
          return true;
        });
      }
      await assert.rejects(loadUsers(join(dir, "nope.txt")), (error) => {
        assert.ok(error instanceof UsersFileError);
        assert.ok(!error.message.includes("\n"), error.message);
        return true;
      });
    }),
});
