/**
 * `server.ts`'s options, each checked on a real server process in a way
 * that fails without the option (its default would make the check time out
 * or come out differently); bad option values; and shutdown on SIGINT and
 * SIGTERM.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  countLines,
  stalledListener,
  startServerProcess,
  waitForStderr,
} from "./support/faults.ts";
import {
  assertNoStackTrace,
  type ExitResult,
  ProcessScope,
  type ServerProcess,
} from "./support/processes.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import { type PeerOptions, Status, WirePeer } from "./support/wire_peer.ts";

/** The short timeout the options set, in seconds and milliseconds. */
const SHORT_S = "0.3";
const SHORT_MS = 300;
/** Far below every default (10 s, 5 s, 30 s). */
const WELL_BEFORE_DEFAULT_MS = 2_000;

/** A server process with `options`, and the peers a test opens on it. */
class Running {
  readonly scope = new ProcessScope();
  readonly #peers: WirePeer[] = [];
  server!: ServerProcess;

  async start(options: string[]): Promise<this> {
    this.server = await startServerProcess(this.scope, options, USERS_FILE);
    return this;
  }

  async connect(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await WirePeer.connect(
      { hostname: "127.0.0.1", port: this.server.port },
      { name, ...options },
    );
    this.#peers.push(peer);
    return peer;
  }

  async join(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await this.connect(name, options);
    await peer.join(name, passwordOf(name));
    return peer;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#peers.splice(0).map((peer) => peer.close()));
    await this.scope.dispose();
  }
}

async function running(options: string[]): Promise<Running> {
  const world = new Running();
  try {
    return await world.start(options);
  } catch (error) {
    await world[Symbol.asyncDispose]();
    throw error;
  }
}

/** Asserts `ms` is the short timeout, not an instant failure nor the default. */
function assertShortTimeout(ms: number, what: string): void {
  assert.ok(
    ms >= SHORT_MS * 0.85 && ms < WELL_BEFORE_DEFAULT_MS,
    `${what} after ${Math.round(ms)} ms; the option asks for ${SHORT_MS} ms`,
  );
}

Deno.test(`--reply-timeout=${SHORT_S}: a receiver that does not answer costs the sender 304 after ${SHORT_S} s`, async () => {
  await using world = await running([`--reply-timeout=${SHORT_S}`]);
  const bob = await world.join("bob", { autoReply: false });
  const jacky = await world.join("jacky");
  const started = performance.now();
  await jacky.send("/to bob are you there?");
  await bob.lb.expectLine("/from jacky are you there?");
  await jacky.expectLine(Status.DELIVERY_FAILED, WELL_BEFORE_DEFAULT_MS);
  assertShortTimeout(performance.now() - started, "304");
  await bob.la.expectClosed();
});

Deno.test(`--connect-timeout=${SHORT_S}: /port to a listener that never accepts gets 202 after ${SHORT_S} s`, async () => {
  const stalled = await stalledListener();
  try {
    await using world = await running([`--connect-timeout=${SHORT_S}`]);
    const jacky = await world.connect("jacky");
    await jacky.login("jacky", passwordOf("jacky"));
    const started = performance.now();
    await jacky.send(`/port ${stalled.port}`);
    await jacky.expectLine(Status.BUILD_FAILED, WELL_BEFORE_DEFAULT_MS);
    assertShortTimeout(performance.now() - started, "202");
  } finally {
    stalled.close();
  }
});

Deno.test(`--login-timeout=${SHORT_S}: a connection that does not log in is closed after ${SHORT_S} s`, async () => {
  await using world = await running([`--login-timeout=${SHORT_S}`]);
  const started = performance.now();
  const idle = await world.connect("idle");
  await idle.la.expectClosed(WELL_BEFORE_DEFAULT_MS);
  assertShortTimeout(performance.now() - started, "closed");
});

Deno.test("--max-line=100: a 101-byte line gets 401, a 100-byte line is taken", async () => {
  await using world = await running(["--max-line=100"]);
  const bob = await world.join("bob");
  const jacky = await world.join("jacky");
  const head = "/to bob ";
  const fits = head + "a".repeat(100 - head.length);
  const over = head + "b".repeat(101 - head.length);
  assert.equal(new TextEncoder().encode(fits).length, 100);
  await jacky.request(over, Status.UNRECOGNIZED);
  await jacky.request(fits, Status.DELIVERY_OK);
  await bob.lb.expectLine(`/from jacky ${"a".repeat(100 - head.length)}`);
  assert.deepEqual(await jacky.list(), ["jacky", "bob"]);
});

Deno.test("--max-connections=2: a third connection is closed at once; the others go on", async () => {
  await using world = await running(["--max-connections=2"]);
  const bob = await world.join("bob");
  const idle = await world.connect("idle");
  await idle.request("/list", Status.UNRECOGNIZED);
  const started = performance.now();
  const third = await world.connect("third");
  await third.send("/list").catch(() => {});
  await third.la.expectClosed(1_000);
  assert.ok(
    performance.now() - started < 1_000,
    "the third connection was not closed at once",
  );
  await waitForStderr(
    world.server,
    (stderr) => / ERROR .*refused/i.test(stderr),
    "a logged refusal",
  );
  await bob.request("/to bob still here", Status.DELIVERY_OK);
  await bob.lb.expectLine("/from bob still here");
  await idle.request("/list", Status.UNRECOGNIZED);
});

/** The text log's lines: `<time> INFO  …` or `<time> ERROR …`. */
const INFO_LINE = /^\S+ INFO /;
const ERROR_LINE = /^\S+ ERROR /;

Deno.test("--quiet: no info lines, errors still logged", async () => {
  await using world = await running(["--quiet"]);
  const jacky = await world.join("jacky");
  await jacky.request("/list", "301 jacky");
  // An error: a message to someone not online.
  await jacky.request("/to nobody hello?", Status.DELIVERY_FAILED);
  await waitForStderr(
    world.server,
    (stderr) => countLines(stderr, ERROR_LINE) > 0,
    "an ERROR line",
  );
  // Connecting and logging in came first: their info lines would be there.
  assert.equal(
    countLines(world.server.stderr, INFO_LINE),
    0,
    world.server.report(),
  );
});

Deno.test("--log-format=json: one JSON object per line with time, level, event and message; never a password", async () => {
  const wrong = "Wr0ng-Passw0rd";
  await using world = await running(["--log-format=json"]);
  const alice = await world.connect("alice");
  await alice.request(`/login alice ${wrong}`, Status.AUTH_FAILED);
  await alice.login("alice", passwordOf("alice"));
  await alice.buildLb();
  await alice.request("/to nobody hi", Status.DELIVERY_FAILED);
  await alice.request("/exit", Status.BYE);
  await waitForStderr(
    world.server,
    (stderr) => stderr.includes('"event":"logout"'),
    "the logout event",
  );
  const lines = world.server.stderr.split("\n").filter((line) => line !== "");
  const events = lines.map((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      assert.fail(`not JSON: ${line}`);
    }
    assert.ok(
      typeof parsed === "object" && parsed !== null && !Array.isArray(parsed),
      `not an object: ${line}`,
    );
    const event = parsed as Record<string, unknown>;
    for (const key of ["time", "level", "event", "message"]) {
      assert.equal(typeof event[key], "string", `no ${key} in ${line}`);
    }
    assert.ok(
      !Number.isNaN(Date.parse(event.time as string)),
      `bad time: ${line}`,
    );
    assert.match(event.level as string, /^(info|error)$/, line);
    return event.event;
  });
  for (const expected of ["login-failed", "login", "delivery-failed"]) {
    assert.ok(events.includes(expected), `no ${expected} event: ${events}`);
  }
  for (const password of [wrong, passwordOf("alice")]) {
    assert.ok(
      !world.server.stderr.includes(password),
      `the log shows a password:\n${world.server.stderr}`,
    );
  }
});

Deno.test("--trace: every line on both links in the Appendix's notation on stderr", async () => {
  await using world = await running(["--trace"]);
  const bob = await world.join("bob");
  const jacky = await world.join("jacky");
  await jacky.request("/to bob Hello! Nice to meet you!", Status.DELIVERY_OK);
  await bob.lb.expectLine("/from jacky Hello! Nice to meet you!");
  const expected = [
    "jacky MM:SS SERVER(a): 101 Authentication successful",
    "jacky MM:SS CLIENT(a): /to bob Hello! Nice to meet you!",
    "bob MM:SS SERVER(b): /from jacky Hello! Nice to meet you!",
    "bob MM:SS CLIENT(b): 302 Message receipt successful",
    "jacky MM:SS SERVER(a): 303 Message delivery successful",
  ];
  const traced = (stderr: string) =>
    stderr.split("\n").map((line) => line.replace(/ \d\d:\d\d /, " MM:SS "));
  await waitForStderr(
    world.server,
    (stderr) => expected.every((line) => traced(stderr).includes(line)),
    `the traced lines ${JSON.stringify(expected)}`,
  );
});

Deno.test("bad option values: a usage line and exit code 2", async () => {
  const cases = [
    ["--reply-timeout=abc"],
    ["--reply-timeout=0"],
    ["--reply-timeout=-1"],
    ["--reply-timeout="],
    ["--connect-timeout=soon"],
    ["--login-timeout=0"],
    ["--max-line=0"],
    ["--max-line=1.5"],
    ["--max-line=lots"],
    ["--max-connections=0"],
    ["--max-connections=-3"],
    ["--log-format=xml"],
    ["--quiet=yes"],
    ["--bogus"],
  ];
  await using scope = new ProcessScope();
  const results = await Promise.all(cases.map(async (options) => {
    const server = scope.spawnServer([...options, "0", USERS_FILE]);
    return [options.join(" "), await server.waitForExit(10_000)] as const;
  }));
  // An option missing its value, at the end where no argument can fill it.
  const missing = scope.spawnServer(["0", USERS_FILE, "--reply-timeout"]);
  const all: (readonly [string, ExitResult])[] = [
    ...results,
    ["--reply-timeout (no value)", await missing.waitForExit(10_000)],
  ];
  for (const [options, result] of all) {
    assertNoStackTrace(result.stderr, options);
    assert.equal(result.code, 2, `${options}: exit code\n${result.stderr}`);
    assert.ok(
      /usage/i.test(result.stderr),
      `${options}: no usage line\n${result.stderr}`,
    );
    assert.deepEqual(result.stdout, [], `${options}: the server started`);
  }
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`${signal}: the server closes every link and exits 0 within a second, even with a delivery in flight`, async () => {
    await using world = await running([]);
    const bob = await world.join("bob", { autoReply: false });
    const jacky = await world.join("jacky");
    const idle = await world.connect("idle");
    await idle.request("/list", Status.UNRECOGNIZED);
    await jacky.send("/to bob hold this");
    await bob.lb.expectLine("/from jacky hold this");

    const signalledAt = performance.now();
    world.server.kill(signal);
    const exit = await world.server.waitForExit(3_000);
    const took = performance.now() - signalledAt;
    assert.equal(exit.code, 0, world.server.report());
    assert.equal(exit.signal, null, "killed by the signal, not exited");
    assert.ok(took < 1_000, `exited ${Math.round(took)} ms after ${signal}`);
    assertNoStackTrace(exit.stderr, "server");
    // Every link was closed (a pending 304 to jacky, if any, came first).
    await Promise.all([
      bob.la.expectClosed(500),
      bob.lb.expectClosed(500),
      idle.la.expectClosed(500),
      (async () => {
        const line = await jacky.readLine(500);
        if (line !== null) {
          assert.equal(line, Status.DELIVERY_FAILED);
          await jacky.la.expectClosed(500);
        }
      })(),
      jacky.lb.expectClosed(500),
    ]);
  });
}
