/**
 * Every default the docs state, on the real programs started with no
 * options, each waited out in real time once: the settings the server logs
 * at start; the 10 s reply timeout, the 5 s Lb connect timeout and the 30 s
 * login timeout; the login throttle's 1, 2, 4 and 8 s steps, its cap, its
 * count kept per address across connections, and a success starting it
 * over; the cap of 10,000 connections; and the client's 5 s wait for Lb
 * after `201` and its 10 s wait to connect.
 *
 * The numbers are written here from the docs (`docs/server.md`,
 * `docs/reliability.md`, `docs/protocol.md`), not read from the code. The
 * checks mostly wait, so they all run at once in one test: the file takes
 * about as long as the longest of them, the login timeout, and little CPU.
 * A failure names every check that failed.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  connectLine,
  type NetLine,
  stalledListener,
  startServerProcess,
} from "./support/faults.ts";
import {
  assertOneLine,
  PASSWORD_PROMPT,
  ProcessScope,
  type ServerProcess,
  USER_PROMPT,
} from "./support/processes.ts";
import {
  assertWaited,
  escapeRegExp,
  LATE_MS,
  logMessages,
  waitForLog,
  waitForLogCount,
} from "./support/server_log.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import {
  LineConn,
  type PeerOptions,
  Status,
  WirePeer,
} from "./support/wire_peer.ts";

/** The docs' defaults, as the server's first log line gives them. */
const SETTINGS = "reply timeout 10 s, connect timeout 5 s, " +
  "login timeout 30 s, max line 65536 bytes, max connections 10000, " +
  "login throttle after 3 failures, 1 s doubling to 8 s";
const REPLY_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
const LOGIN_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 10_000;
/** The 102 for each failure in a row from one address is delayed this long. */
const THROTTLE_STEPS_MS = [0, 0, 0, 1_000, 2_000, 4_000, 8_000, 8_000];
/** The client's waits: for Lb after `201`, and to reach the server. */
const CLIENT_LB_WAIT_MS = 5_000;
const CLIENT_CONNECT_WAIT_MS = 10_000;
/** How long a freshly spawned client may take to get going. */
const CLIENT_START_MS = 5_000;

/** A `server.ts` process with no options, and the peers opened on it. */
class World {
  readonly scope = new ProcessScope();
  readonly #closables: { close(): Promise<void> | void }[] = [];
  server!: ServerProcess;

  async start(): Promise<void> {
    this.server = await startServerProcess(this.scope, [], USERS_FILE);
  }

  /** The first log line gives the defaults, exactly as the docs do. */
  async expectSettingsLogged(): Promise<void> {
    await waitForLog(this.server, /^listening on /);
    assert.equal(
      logMessages(this.server)[0],
      `listening on 0.0.0.0:${this.server.port}: ${SETTINGS}`,
    );
  }

  get address() {
    return { hostname: "127.0.0.1", port: this.server.port };
  }

  async connect(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await WirePeer.connect(this.address, { name, ...options });
    this.#closables.push(peer);
    return peer;
  }

  async join(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await this.connect(name, options);
    await peer.join(name, passwordOf(name));
    return peer;
  }

  /** La opened from `localAddress` (another loopback address, say). */
  async connectFrom(localAddress: string, name: string): Promise<NetLine> {
    const la = await connectLine(this.address, { name, localAddress });
    this.#closables.push({ close: () => la.destroy() });
    return la;
  }

  track(closable: { close(): Promise<void> | void }): void {
    this.#closables.push(closable);
  }

  async close(): Promise<void> {
    await Promise.all(this.#closables.splice(0).map((c) => c.close()));
    await this.scope.dispose();
  }
}

// ---------------------------------------------------------------------------
// The server's timeouts.

async function replyTimeout(world: World): Promise<void> {
  const bob = await world.join("bob", { autoReply: false });
  const jacky = await world.join("jacky");
  const sentAt = performance.now();
  await jacky.send("/to bob are you there?");
  await bob.lb.expectLine("/from jacky are you there?");
  await jacky.expectLine(Status.DELIVERY_FAILED, REPLY_TIMEOUT_MS + LATE_MS);
  assertWaited(performance.now() - sentAt, REPLY_TIMEOUT_MS, "jacky's 304");
  await bob.la.expectClosed(LATE_MS);
  await waitForLog(world.server, /^jacky -> bob: no receipt within 10000 ms$/);
}

async function connectTimeout(world: World): Promise<void> {
  const stalled = await stalledListener();
  world.track(stalled);
  const michael = await world.connect("michael");
  await michael.login("michael", passwordOf("michael"));
  const sentAt = performance.now();
  await michael.send(`/port ${stalled.port}`);
  await michael.expectLine(Status.BUILD_FAILED, CONNECT_TIMEOUT_MS + LATE_MS);
  assertWaited(performance.now() - sentAt, CONNECT_TIMEOUT_MS, "202");
  await waitForLog(
    world.server,
    new RegExp(
      `^michael: Lb to 127\\.0\\.0\\.1:${stalled.port} failed: ` +
        "no connection within 5000 ms$",
    ),
  );
}

async function loginTimeout(world: World): Promise<void> {
  const connectedAt = performance.now();
  const idle = await world.connect("idle");
  await idle.la.expectClosed(LOGIN_TIMEOUT_MS + LATE_MS);
  assertWaited(performance.now() - connectedAt, LOGIN_TIMEOUT_MS, "closed");
  const peer = `127.0.0.1:${idle.la.conn.localAddr.port}`;
  await waitForLog(
    world.server,
    new RegExp(`^${escapeRegExp(peer)} logged out: no login within 30000 ms$`),
  );
}

// ---------------------------------------------------------------------------
// The login throttle.

/** What one login from a connection of its own showed. */
interface LoginResult {
  /** From the line sent to its answer. */
  ms: number;
  /** The delay the server logged for a failure; 0 for none or a success. */
  delayedMs: number;
}

/**
 * One login from a new connection from `from`; `meanwhile` runs once the
 * server has taken the line (and logged a failure), before its answer.
 */
async function loginFrom(
  world: World,
  from: string,
  line: string,
  expected: string,
  meanwhile?: () => Promise<void>,
): Promise<LoginResult> {
  const la = await world.connectFrom(from, `${from}/La`);
  const sentAt = performance.now();
  await la.send(line);
  let delayedMs = 0;
  if (expected === Status.AUTH_FAILED) {
    const peer = escapeRegExp(`${from}:${la.socket.localPort}`);
    const logged = await waitForLog(
      world.server,
      new RegExp(`^${peer} login failed: `),
    );
    delayedMs = Number(logged.match(/\(answer delayed (\d+) ms\)$/)?.[1] ?? 0);
  }
  await meanwhile?.();
  await la.expectLine(expected, 8_000 + LATE_MS);
  const ms = performance.now() - sentAt;
  if (expected === Status.AUTH_OK) {
    await la.send("/exit");
    await la.expectLine(Status.BYE);
  }
  await la.destroy();
  return { ms, delayedMs };
}

/**
 * Failed logins from `from` in a row, each on a connection of its own,
 * with the delays `steps`; `meanwhile(i)` runs while the i-th is delayed.
 */
async function failures(
  world: World,
  from: string,
  steps: readonly number[],
  meanwhile?: (i: number) => Promise<void>,
): Promise<void> {
  for (const [i, step] of steps.entries()) {
    const { ms, delayedMs } = await loginFrom(
      world,
      from,
      "/login erin wrong",
      Status.AUTH_FAILED,
      () => meanwhile?.(i) ?? Promise.resolve(),
    );
    const what = `failure ${i + 1} in a row from ${from}`;
    assert.equal(delayedMs, step, `${what}: the delay logged`);
    if (step === 0) {
      assert.ok(ms < THROTTLE_STEPS_MS[3], `${what}: 102 after ${ms} ms`);
    } else {
      assertWaited(ms, step, `${what}: 102`);
    }
  }
}

async function loginThrottle(world: World): Promise<void> {
  const atCap = THROTTLE_STEPS_MS.length - 2;
  // While this address waits out the cap, another one is not delayed.
  const otherAddress = async (i: number) => {
    if (i !== atCap) return;
    const other = await loginFrom(
      world,
      "127.0.0.3",
      "/login erin wrong",
      Status.AUTH_FAILED,
    );
    assert.equal(other.delayedMs, 0, "127.0.0.3 was delayed");
    assert.ok(other.ms < THROTTLE_STEPS_MS[3], `127.0.0.3: ${other.ms} ms`);
  };
  await failures(world, "127.0.0.2", THROTTLE_STEPS_MS, otherAddress);
  // A success is not delayed, and starts the count over.
  const success = await loginFrom(
    world,
    "127.0.0.2",
    `/login dave ${passwordOf("dave")}`,
    Status.AUTH_OK,
  );
  assert.ok(success.ms < THROTTLE_STEPS_MS[3], `101 after ${success.ms} ms`);
  await failures(world, "127.0.0.2", THROTTLE_STEPS_MS.slice(0, 4));
}

// ---------------------------------------------------------------------------
// The connection cap, on a server of its own.

async function connectionCap(): Promise<void> {
  const world = new World();
  const idle: Deno.TcpConn[] = [];
  try {
    await world.start();
    await world.expectSettingsLogged();
    const bob = await world.join("bob");
    const jacky = await world.join("jacky");
    while (idle.length < MAX_CONNECTIONS - 2) {
      const batch = Math.min(100, MAX_CONNECTIONS - 2 - idle.length);
      idle.push(
        ...await Promise.all(
          Array.from({ length: batch }, () => Deno.connect(world.address)),
        ),
      );
    }
    await waitForLogCount(world.server, / connected$/, MAX_CONNECTIONS);
    const extra = await world.connect("extra");
    await extra.la.expectClosed(1_000);
    await waitForLog(
      world.server,
      /^refused 1 connection\(s\): limit of 10000 reached$/,
    );
    await bob.request("/to jacky still here", Status.DELIVERY_OK);
    await jacky.lb.expectLine("/from bob still here");
  } finally {
    for (const conn of idle) conn.close();
    await world.close();
  }
}

// ---------------------------------------------------------------------------
// The client's waits.

/** A scripted server answers `101`, then `201`, and never connects Lb. */
async function clientLbWait(scope: ProcessScope): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = scope.startClient(listener.addr.port, "client");
  const la = new LineConn(await listener.accept(), "client/La");
  try {
    await client.waitForLine(USER_PROMPT, CLIENT_START_MS);
    await client.writeLine("jacky");
    await client.waitForLine(PASSWORD_PROMPT);
    await client.writeLine("12345");
    await la.expectLine("/login jacky 12345", CLIENT_START_MS);
    await la.send(Status.AUTH_OK);
    const port = await la.expectLine();
    assert.match(port, /^\/port \d+$/);
    await la.send(Status.BUILD_OK);
    const answeredAt = performance.now();
    const result = await client.waitForExit(CLIENT_LB_WAIT_MS + LATE_MS);
    assertWaited(
      performance.now() - answeredAt,
      CLIENT_LB_WAIT_MS,
      "the client gave up",
    );
    assert.equal(result.code, 1, client.report());
    assert.match(assertOneLine(result, "client"), /^error: .*Lb/);
  } finally {
    await la.close();
  }
}

/** The client aimed at a listener whose accept queue is full. */
async function clientConnectWait(scope: ProcessScope): Promise<void> {
  const stalled = await stalledListener();
  try {
    const startedAt = performance.now();
    const client = scope.startClient(stalled.port, "unreachable client");
    const result = await client.waitForExit(
      CLIENT_CONNECT_WAIT_MS + CLIENT_START_MS + LATE_MS,
    );
    const ms = performance.now() - startedAt;
    assert.ok(
      ms >= CLIENT_CONNECT_WAIT_MS &&
        ms < CLIENT_CONNECT_WAIT_MS + CLIENT_START_MS + LATE_MS,
      `the client gave up after ${Math.round(ms)} ms`,
    );
    assert.equal(result.code, 1, client.report());
    assert.match(
      assertOneLine(result, "client"),
      new RegExp(`^error: cannot connect to 127\\.0\\.0\\.1:${stalled.port}`),
    );
  } finally {
    stalled.close();
  }
}

// ---------------------------------------------------------------------------

Deno.test("defaults: server.ts and client.ts with no options keep every default the docs state, in real time", async () => {
  const world = new World();
  await using clients = new ProcessScope();
  try {
    await world.start();
    const checks: [string, Promise<void>][] = [
      ["the settings logged at start", world.expectSettingsLogged()],
      ["10 s reply timeout", replyTimeout(world)],
      ["5 s connect timeout", connectTimeout(world)],
      ["30 s login timeout", loginTimeout(world)],
      ["login throttle", loginThrottle(world)],
      ["10,000 connections", connectionCap()],
      ["client's 5 s wait for Lb", clientLbWait(clients)],
      ["client's 10 s wait to connect", clientConnectWait(clients)],
    ];
    const results = await Promise.allSettled(checks.map(([, check]) => check));
    const failed = results.flatMap((result, i) =>
      result.status === "rejected"
        ? [`${checks[i][0]}: ${result.reason?.stack ?? result.reason}`]
        : []
    );
    if (failed.length > 0) {
      assert.fail(`${failed.join("\n\n")}\n${world.server.report()}`);
    }
  } finally {
    await world.close();
  }
});
