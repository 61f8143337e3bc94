/**
 * Credentials: scrypt-hashed passwords (`scrypt$N=…,r=…,p=…$<salt>$<hash>`,
 * base64), plain passwords as in the handout's file, the users file holding
 * either, a live login against a hashed entry, and no password in the
 * server's log, in-process or from `server.ts` (`--log-format=json`, and the
 * `--trace` of every line).
 */

import assert from "node:assert/strict";
import { randomBytes, scryptSync } from "node:crypto";
import { join } from "node:path";
import {
  checkStoredPassword,
  hashPassword,
  verifyPassword,
} from "../lib/server/credentials.ts";
import { startServer } from "../lib/server/mod.ts";
import type { LogEvent } from "../lib/server/log.ts";
import {
  loadUsers,
  parseUsers,
  UsersFileError,
} from "../lib/server/users_file.ts";
import {
  assertNoStackTrace,
  makeScratchDir,
  ProcessScope,
  removeScratchDir,
  START_TIMEOUT_MS,
} from "./support/processes.ts";
import { Status, WirePeer } from "./support/wire_peer.ts";

/** A cheap cost for tests; the format and the checks are the same. */
const COST = 1024;
const HASH_FORMAT =
  /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/;

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** A hash made here with `node:crypto`, independently of the code under test. */
function handMade(
  password: string,
  params: { N: number; r: number; p: number },
  keyLength = 32,
  salt: Uint8Array = randomBytes(16),
): string {
  const key = scryptSync(password, salt, keyLength, {
    ...params,
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  });
  return `scrypt$N=${params.N},r=${params.r},p=${params.p}$${b64(salt)}$${
    b64(key)
  }`;
}

// --- hashPassword and verifyPassword ----------------------------------------

Deno.test("hashPassword: writes scrypt$N=…,r=…,p=…$salt$hash that verifyPassword accepts", async () => {
  const hash = await hashPassword("Corr3ct-horse", { cost: COST });
  assert.match(hash, HASH_FORMAT);
  assert.ok(hash.startsWith(`scrypt$N=${COST},r=8,p=1$`), hash);
  assert.equal(checkStoredPassword(hash), undefined);
  assert.equal(await verifyPassword(hash, "Corr3ct-horse"), true);
  for (const wrong of ["corr3ct-horse", "Corr3ct-hors", "Corr3ct-horse ", ""]) {
    assert.equal(await verifyPassword(hash, wrong), false, wrong);
  }
  // No space, so the hash fits the users file's two columns.
  assert.ok(!/\s/.test(hash));
});

Deno.test("hashPassword: a fresh salt every time; default cost N=16384, r=8, p=1", async () => {
  const first = await hashPassword("same-password", { cost: COST });
  const second = await hashPassword("same-password", { cost: COST });
  assert.notEqual(first, second);
  assert.equal(await verifyPassword(second, "same-password"), true);
  const standard = await hashPassword("same-password");
  assert.match(standard, /^scrypt\$N=16384,r=8,p=1\$/);
  assert.equal(await verifyPassword(standard, "same-password"), true);
});

Deno.test("verifyPassword: honours N, r, p and the key length written in the hash", async () => {
  const salt = randomBytes(12);
  const params = { N: 2048, r: 4, p: 2 };
  const hash = handMade("pa55word", params, 16, salt);
  assert.equal(checkStoredPassword(hash), undefined);
  assert.equal(await verifyPassword(hash, "pa55word"), true);
  assert.equal(await verifyPassword(hash, "pa55worD"), false);
  // The same salt and key under other parameters no longer match.
  for (const other of ["N=1024,r=4,p=2", "N=2048,r=8,p=2", "N=2048,r=4,p=1"]) {
    const changed = hash.replace("N=2048,r=4,p=2", other);
    assert.equal(await verifyPassword(changed, "pa55word"), false, other);
  }
  // A 64-byte key works as well as the 32-byte default.
  const long = handMade("pa55word", { N: 1024, r: 8, p: 1 }, 64);
  assert.equal(await verifyPassword(long, "pa55word"), true);
  assert.equal(await verifyPassword(long, "pa55wor"), false);
});

Deno.test("verifyPassword: any Unicode password, hashed as UTF-8", async () => {
  const password = "päss-wörd-密码-🔑";
  const hash = await hashPassword(password, { cost: COST });
  assert.equal(await verifyPassword(hash, password), true);
  assert.equal(await verifyPassword(hash, password.normalize("NFD")), false);
  // And a hash made elsewhere from the UTF-8 bytes agrees.
  assert.equal(
    await verifyPassword(handMade(password, { N: 1024, r: 8, p: 1 }), password),
    true,
  );
});

const GOOD_SALT = b64(new Uint8Array(16).fill(7));
const GOOD_KEY = b64(new Uint8Array(32).fill(9));
const MALFORMED = [
  "scrypt$",
  "scrypt$$$",
  `scrypt$N=1024,r=8,p=1$${GOOD_SALT}`,
  `scrypt$N=1024,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}$extra`,
  `scrypt$$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=1024,r=8$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$n=1024,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=1024,p=1,r=8$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=1000,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`, // not a power of two
  `scrypt$N=1,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=0,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=1024,r=0,p=1$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=1024,r=8,p=0$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=-1024,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`,
  `scrypt$N=1024,r=8,p=1$$${GOOD_KEY}`, // no salt
  `scrypt$N=1024,r=8,p=1$${GOOD_SALT}$`, // no key
  `scrypt$N=1024,r=8,p=1$!!!!$${GOOD_KEY}`, // not base64
  `scrypt$N=1024,r=8,p=1$${GOOD_SALT}$a2V5-_`, // base64url, not base64
  `scrypt$N=1024,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}===`,
];

Deno.test("checkStoredPassword: malformed scrypt hashes are named as such", () => {
  for (const stored of MALFORMED) {
    const problem = checkStoredPassword(stored);
    assert.equal(typeof problem, "string", `accepted: ${stored}`);
    assert.match(problem!, /scrypt/i, stored);
  }
  // The well-formed neighbour of them all is accepted.
  assert.equal(
    checkStoredPassword(`scrypt$N=1024,r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`),
    undefined,
  );
});

Deno.test("verifyPassword: a malformed hash matches nothing, not even itself", async () => {
  for (const stored of MALFORMED) {
    assert.equal(await verifyPassword(stored, stored), false, stored);
    assert.equal(await verifyPassword(stored, ""), false, stored);
    assert.equal(await verifyPassword(stored, "password"), false, stored);
  }
});

/**
 * The docs' bounds on a stored hash: "N up to 2^20, 256 MiB" (scrypt needs
 * 128·N·r bytes). The largest hashes within them, and their neighbours just
 * past them.
 */
const WITHIN_BOUNDS = [
  `scrypt$N=${2 ** 20},r=2,p=1$${GOOD_SALT}$${GOOD_KEY}`, // 256 MiB
  `scrypt$N=${2 ** 17},r=16,p=1$${GOOD_SALT}$${GOOD_KEY}`, // 256 MiB
];
const PAST_BOUNDS = [
  `scrypt$N=${2 ** 21},r=1,p=1$${GOOD_SALT}$${GOOD_KEY}`, // N over, 256 MiB
  `scrypt$N=${2 ** 20},r=3,p=1$${GOOD_SALT}$${GOOD_KEY}`, // 384 MiB
  `scrypt$N=${2 ** 17},r=17,p=1$${GOOD_SALT}$${GOOD_KEY}`, // 272 MiB
  `scrypt$N=${2 ** 30},r=8,p=1$${GOOD_SALT}$${GOOD_KEY}`, // 1 TiB
];

Deno.test("checkStoredPassword: N up to 2^20 and 256 MiB are accepted; past either bound a hash is refused", () => {
  for (const stored of WITHIN_BOUNDS) {
    assert.equal(checkStoredPassword(stored), undefined, stored);
  }
  for (const stored of PAST_BOUNDS) {
    const problem = checkStoredPassword(stored);
    assert.equal(typeof problem, "string", `accepted: ${stored}`);
    assert.match(problem!, /scrypt/i, stored);
    assert.throws(
      () => parseUsers(`bob ${stored}\n`, { source: "users.txt" }),
      (error) =>
        error instanceof UsersFileError && /users\.txt:1\b/.test(error.message),
      stored,
    );
  }
});

/** Well formed, but scrypt cannot run with it (128·N·r bytes = 1 TiB). */
const UNUSABLE = PAST_BOUNDS.at(-1)!;

Deno.test("credentials: a hash past the bounds, which scrypt could not run, is refused when loaded and matches nothing when checked; it never throws", async () => {
  assert.equal(typeof checkStoredPassword(UNUSABLE), "string");
  let verified: boolean | undefined;
  let thrown: unknown;
  try {
    verified = await verifyPassword(UNUSABLE, "anything");
  } catch (error) {
    thrown = error;
  }
  assert.equal(thrown, undefined, `verifyPassword threw: ${thrown}`);
  assert.equal(verified, false);
});

Deno.test("verifyPassword: plain passwords (the handout's file) still work", async () => {
  for (const plain of ["12345", "bob123", "p@ss$word", "Scrypt$x", "scrypt"]) {
    assert.equal(checkStoredPassword(plain), undefined, plain);
    assert.equal(await verifyPassword(plain, plain), true, plain);
    assert.equal(await verifyPassword(plain, plain + "x"), false, plain);
    assert.equal(await verifyPassword(plain, plain.slice(1)), false, plain);
    assert.equal(
      await verifyPassword(plain, plain.toUpperCase()),
      plain === plain.toUpperCase(),
      plain,
    );
  }
  assert.equal(await verifyPassword("12345", ""), false);
});

// --- The users file ---------------------------------------------------------

Deno.test("parseUsers: hashed and plain entries side by side", async () => {
  const bob = await hashPassword("bob-secret", { cost: COST });
  const carol = handMade("carol-secret", { N: 2048, r: 4, p: 1 });
  const users = parseUsers(
    ["# mixed", `bob ${bob}`, "jacky 12345", `carol\t${carol}\r`, ""].join(
      "\n",
    ),
  );
  assert.deepEqual(
    users,
    new Map([["bob", bob], ["jacky", "12345"], ["carol", carol]]),
  );
  assert.equal(await verifyPassword(users.get("bob")!, "bob-secret"), true);
  assert.equal(await verifyPassword(users.get("carol")!, "carol-secret"), true);
  assert.equal(await verifyPassword(users.get("jacky")!, "12345"), true);
});

Deno.test("parseUsers: a malformed hash is a UsersFileError naming its line", () => {
  for (const stored of MALFORMED) {
    const text = `jacky 12345\n# comment\nbob ${stored}\nmichael m1chael\n`;
    assert.throws(
      () => parseUsers(text, { source: "users.txt" }),
      (error) => {
        assert.ok(error instanceof UsersFileError, String(error));
        assert.match(error.message, /users\.txt:3\b/);
        assert.match(error.message, /scrypt/);
        return true;
      },
      stored,
    );
  }
});

Deno.test("loadUsers: a malformed hash in a file names the file and line", async () => {
  const dir = await makeScratchDir("credentials_test_");
  try {
    const path = join(dir, "users.txt");
    const good = await hashPassword("fine", { cost: COST });
    await Deno.writeTextFile(
      path,
      `alice ${good}\nbob scrypt$N=1024,r=8,p=1$${GOOD_SALT}\n`,
    );
    await assert.rejects(loadUsers(path), (error) => {
      assert.ok(error instanceof UsersFileError, String(error));
      assert.ok(error.message.includes(`${path}:2`), error.message);
      return true;
    });
    await Deno.writeTextFile(path, `alice ${good}\n`);
    assert.deepEqual(await loadUsers(path), new Map([["alice", good]]));
  } finally {
    await removeScratchDir(dir);
  }
});

// --- A live server ----------------------------------------------------------

const BOB_PASSWORD = "Right-Pa55-bob";
const WRONG_PASSWORD = "Wr0ng-Guess-77";
const GHOST_PASSWORD = "Gh0st-Pa55-99";
const ALICE_PASSWORD = "alice-Plain-42";
const ALICE_WRONG = "alice-Wrong-13";
const SECRETS = [
  BOB_PASSWORD,
  WRONG_PASSWORD,
  GHOST_PASSWORD,
  ALICE_PASSWORD,
  ALICE_WRONG,
];

function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) {
    assert.ok(!text.includes(secret), `${where} shows the password ${secret}`);
  }
}

/** A login attempt and its one reply. */
async function login(
  port: number,
  line: string,
  expected: string,
): Promise<WirePeer> {
  const peer = await WirePeer.connect({ hostname: "127.0.0.1", port });
  await peer.request(line, expected);
  return peer;
}

Deno.test("server: a hashed user logs in with the right password (101), not with a wrong one (102); the log never shows a password", async () => {
  const events: LogEvent[] = [];
  const users = new Map([
    ["bob", await hashPassword(BOB_PASSWORD, { cost: COST })],
    ["alice", ALICE_PASSWORD],
  ]);
  const server = startServer(users, {
    hostname: "127.0.0.1",
    port: 0,
    loginThrottle: false,
    log: (event) => events.push(event),
  });
  const peers: WirePeer[] = [];
  try {
    const bob = await login(
      server.port,
      `/login bob ${WRONG_PASSWORD}`,
      Status.AUTH_FAILED,
    );
    peers.push(bob);
    await bob.request(`/login ghost ${GHOST_PASSWORD}`, Status.AUTH_FAILED);
    await bob.request(`/login bob ${BOB_PASSWORD} extra`, Status.AUTH_FAILED);
    await bob.request(`/login bob ${BOB_PASSWORD}`, Status.AUTH_OK);
    await bob.request("/list", "301 bob");

    const alice = await login(
      server.port,
      `/login alice ${ALICE_WRONG}`,
      Status.AUTH_FAILED,
    );
    peers.push(alice);
    await alice.request(`/login alice ${ALICE_PASSWORD}`, Status.AUTH_OK);
    // Already online: refused even with the right password.
    peers.push(
      await login(
        server.port,
        `/login bob ${BOB_PASSWORD}`,
        Status.AUTH_FAILED,
      ),
    );
    await alice.request("/exit", Status.BYE);
    await bob.request("/exit", Status.BYE);

    const kinds = events.map((event) => event.event);
    assert.equal(kinds.filter((k) => k === "login").length, 2, kinds.join());
    assert.equal(kinds.filter((k) => k === "login-failed").length, 5);
    assertNoSecret(JSON.stringify(events), "the server's log");
  } finally {
    await Promise.all(peers.map((peer) => peer.close()));
    await server.close();
  }
});

Deno.test("server: a user whose stored hash scrypt cannot run gets 102, and the server carries on", async () => {
  const server = startServer(
    new Map([["broken", UNUSABLE], ["alice", ALICE_PASSWORD]]),
    { hostname: "127.0.0.1", port: 0, loginThrottle: false, log: () => {} },
  );
  const peers: WirePeer[] = [];
  try {
    const peer = await WirePeer.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    peers.push(peer);
    await peer.send("/login broken anything");
    const reply = await peer.readLine().catch((error) => String(error));
    assert.equal(
      reply,
      Status.AUTH_FAILED,
      "/login for a user whose hash scrypt cannot run must get exactly one " +
        "reply, 102",
    );
    await peer.request(`/login alice ${ALICE_PASSWORD}`, Status.AUTH_OK);
  } finally {
    await Promise.all(peers.map((peer) => peer.close()));
    await server.close();
  }
});

/**
 * Runs `server.ts` with `options` on a users file holding a hashed bob and a
 * plain alice, makes failed and successful logins, stops the server with
 * SIGTERM and returns its stderr lines.
 */
async function serverLogOf(options: string[]): Promise<string[]> {
  const dir = await makeScratchDir("credentials_test_");
  await using scope = new ProcessScope();
  const peers: WirePeer[] = [];
  try {
    const file = join(dir, "users.txt");
    await Deno.writeTextFile(
      file,
      `bob ${await hashPassword(BOB_PASSWORD, { cost: COST })}\n` +
        `alice ${ALICE_PASSWORD}\n`,
    );
    const server = scope.spawnServer([...options, "0", file]);
    const first = await server.waitForLine(() => true, START_TIMEOUT_MS);
    const port = Number(first.match(/:(\d{1,5})\b/)?.[1]);
    assert.ok(port > 0, `no port in ${JSON.stringify(first)}`);
    // Three failures at most: the fourth from one address is delayed.
    const bob = await login(
      port,
      `/login bob ${WRONG_PASSWORD}`,
      Status.AUTH_FAILED,
    );
    peers.push(bob);
    await bob.request(`/login ghost ${GHOST_PASSWORD}`, Status.AUTH_FAILED);
    await bob.request(`/login alice ${ALICE_WRONG}`, Status.AUTH_FAILED);
    await bob.request(`/login bob ${BOB_PASSWORD}`, Status.AUTH_OK);
    const alice = await login(
      port,
      `/login alice ${ALICE_PASSWORD}`,
      Status.AUTH_OK,
    );
    peers.push(alice);
    await alice.request("/exit", Status.BYE);
    await bob.request("/exit", Status.BYE);
    await Promise.all(peers.map((peer) => peer.la.expectClosed()));
    server.kill("SIGTERM");
    const result = await server.waitForExit();
    assert.equal(result.code, 0, server.report());
    assertNoStackTrace(result.stderr, "server");
    assertNoSecret(
      result.stderr + result.stdout.join("\n"),
      "server.ts's output",
    );
    return result.stderrLines;
  } finally {
    await Promise.all(peers.map((peer) => peer.close()));
    await removeScratchDir(dir);
  }
}

Deno.test("server.ts --log-format=json: every line is a JSON event, none shows a password", async () => {
  const lines = await serverLogOf(["--log-format=json"]);
  const events = lines.map((line) => JSON.parse(line) as LogEvent);
  for (const event of events) {
    assert.equal(typeof event.event, "string");
    assert.equal(typeof event.message, "string");
  }
  const kinds = events.map((event) => event.event);
  assert.equal(kinds.filter((k) => k === "login").length, 2, kinds.join());
  assert.equal(
    kinds.filter((k) => k === "login-failed").length,
    3,
    kinds.join(),
  );
});

Deno.test("server.ts --trace: the /login lines are shown with the password hidden", async () => {
  const lines = await serverLogOf(["--trace"]);
  const logins = lines.filter((line) => line.includes("/login "));
  assert.equal(logins.length, 5, lines.join("\n"));
});
