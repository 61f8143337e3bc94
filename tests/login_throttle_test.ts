/**
 * The login throttle: its count and delays, then as a running server
 * applies it, per address, on real connections from two loopback addresses.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LoginThrottle } from "../lib/server/login_throttle.ts";
import type { LogEvent } from "../lib/server/log.ts";
import { type ChatServer, loadUsers, startServer } from "../lib/server/mod.ts";
import { connectLine, type NetLine, pollUntil } from "./support/faults.ts";
import { assertWaited, LATE_MS } from "./support/server_log.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import { Status, WirePeer } from "./support/wire_peer.ts";

const USERS = await loadUsers(USERS_FILE);

Deno.test("LoginThrottle: three free failures, then 1 s, 2 s, 4 s, capped at 8 s", () => {
  const throttle = new LoginThrottle();
  const delays = Array.from({ length: 9 }, () => throttle.failure("10.0.0.1"));
  assert.deepEqual(delays, [0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000]);
});

Deno.test("LoginThrottle: a success starts the address over", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 5; i++) throttle.failure("10.0.0.1");
  throttle.success("10.0.0.1");
  assert.equal(throttle.failure("10.0.0.1"), 0);
  assert.equal(throttle.size, 1);
});

Deno.test("LoginThrottle: addresses are counted apart", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 4; i++) throttle.failure("10.0.0.1");
  assert.equal(throttle.failure("10.0.0.2"), 0);
  assert.equal(throttle.failure("10.0.0.1"), 2000);
});

Deno.test("LoginThrottle: options set the free failures and delays", () => {
  const throttle = new LoginThrottle({
    freeFailures: 1,
    baseDelayMs: 10,
    maxDelayMs: 25,
  });
  const delays = Array.from({ length: 5 }, () => throttle.failure("a"));
  assert.deepEqual(delays, [0, 10, 20, 25, 25]);
});

Deno.test("LoginThrottle: memory is bounded by maxAddresses, stalest first", () => {
  const throttle = new LoginThrottle({ maxAddresses: 2 });
  for (let i = 0; i < 4; i++) throttle.failure("old");
  throttle.failure("b");
  throttle.failure("c");
  assert.equal(throttle.size, 2);
  // "old" was forgotten, so it starts from its first failure again.
  assert.equal(throttle.failure("old"), 0);
});

Deno.test("LoginThrottle: records idle past forgetAfterMs are forgotten", () => {
  const throttle = new LoginThrottle({ forgetAfterMs: 0 });
  for (let i = 0; i < 5; i++) assert.equal(throttle.failure("a"), 0);
});

// ---------------------------------------------------------------------------
// The throttle as a running server applies it, with its steps scaled down
// (`defaults_test.ts` waits out the real ones on `server.ts`).

const BASE_MS = 150;
const MAX_MS = 600;
/** The delay of each failure in a row from one address. */
const STEPS_MS = [0, 0, 0, BASE_MS, 2 * BASE_MS, MAX_MS, MAX_MS];

/** A server with the scaled throttle, and the connections a test opens. */
class Guessing {
  readonly events: LogEvent[] = [];
  readonly server: ChatServer;
  readonly #lines: NetLine[] = [];

  constructor() {
    this.server = startServer(USERS, {
      hostname: "127.0.0.1",
      port: 0,
      loginThrottle: {
        freeFailures: 3,
        baseDelayMs: BASE_MS,
        maxDelayMs: MAX_MS,
      },
      log: (event) => this.events.push(event),
    });
  }

  /**
   * `/login` on a new connection from `from`; `meanwhile` runs once the
   * server has taken the line, before its answer. Returns how long the
   * answer took and the delay the server logged.
   */
  async login(
    from: string,
    line: string,
    expected: string,
    meanwhile?: (waiting: NetLine) => Promise<void>,
  ): Promise<{ ms: number; delayedMs: number }> {
    const la = await connectLine(
      { hostname: "127.0.0.1", port: this.server.port },
      { name: `${from}/La`, localAddress: from },
    );
    this.#lines.push(la);
    const peer = `${from}:${la.socket.localPort}`;
    const sentAt = performance.now();
    await la.send(line);
    let event: LogEvent | undefined;
    await pollUntil(
      () =>
        (event = this.events.find((e) =>
          e.peer === peer && (e.event === "login" || e.event === "login-failed")
        )) !== undefined,
      () => `no login event for ${peer}`,
    );
    await meanwhile?.(la);
    await la.expectLine(expected, MAX_MS + LATE_MS);
    const ms = performance.now() - sentAt;
    await la.destroy();
    return { ms, delayedMs: event!.event === "login-failed" ? event!.ms! : 0 };
  }

  /** Failed logins from `from`, each on a connection of its own. */
  async fail(
    from: string,
    steps: readonly number[],
    meanwhile?: (i: number, waiting: NetLine) => Promise<void>,
  ): Promise<void> {
    for (const [i, step] of steps.entries()) {
      const { ms, delayedMs } = await this.login(
        from,
        "/login erin wrong",
        Status.AUTH_FAILED,
        (waiting) => meanwhile?.(i, waiting) ?? Promise.resolve(),
      );
      const what = `failure ${i + 1} in a row from ${from}`;
      assert.equal(delayedMs, step, `${what}: the delay logged`);
      if (step === 0) assert.ok(ms < MAX_MS, `${what}: 102 after ${ms} ms`);
      else assertWaited(ms, step, `${what}: 102`);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#lines.map((line) => line.destroy()));
    await this.server.close();
  }
}

Deno.test("login throttle on a server: failures from several connections of one address count together, up to the cap; another address is not delayed; a success starts over", async () => {
  const world = new Guessing();
  try {
    const bob = await WirePeer.connect(
      { hostname: "127.0.0.1", port: world.server.port },
      { name: "bob" },
    );
    try {
      await bob.join("bob", passwordOf("bob"));
      const atCap = STEPS_MS.length - 1;
      await world.fail("127.0.0.1", STEPS_MS, async (i, waiting) => {
        if (i !== atCap) return;
        // Meanwhile: another address, and a user online, wait for nothing.
        const other = await world.login(
          "127.0.0.2",
          "/login erin wrong",
          Status.AUTH_FAILED,
        );
        assert.equal(other.delayedMs, 0, "127.0.0.2 was delayed");
        await bob.request("/to bob still here", Status.DELIVERY_OK);
        await bob.lb.expectLine("/from bob still here");
        assert.equal(
          waiting.pending,
          0,
          "the delayed answer went out before the others were served",
        );
      });
      const success = await world.login(
        "127.0.0.1",
        `/login dave ${passwordOf("dave")}`,
        Status.AUTH_OK,
      );
      assert.ok(success.ms < MAX_MS, `101 after ${success.ms} ms`);
      await world.fail("127.0.0.1", STEPS_MS.slice(0, 4));
    } finally {
      await bob.close();
    }
  } finally {
    await world.close();
  }
});
