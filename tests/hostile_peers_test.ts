/**
 * Hostile and broken peers: a receiver that stops answering, a reader that
 * stalls, connections that never log in, too many connections, and TCP
 * keepalive on both links. Each runs against the in-process server with
 * short limits set through its options. (Password guessing is in
 * `login_throttle_test.ts`; the defaults, waited out in real time, in
 * `defaults_test.ts`.)
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type ChatServer,
  type ServerOptions,
  type ServerTraceEvent,
  startServer,
} from "../lib/server/mod.ts";
import type { LogEvent } from "../lib/server/log.ts";
import { loadUsers } from "../lib/server/users_file.ts";
import {
  type Holdings,
  holdings,
  NetPeer,
  pollUntil,
  type SocketRow,
  tcpSockets,
  waitForHoldings,
} from "./support/faults.ts";
import { assertWaited, LATE_MS, timed } from "./support/server_log.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import { delay } from "../lib/async/delay.ts";
import {
  type Address,
  type PeerOptions,
  Status,
  WirePeer,
} from "./support/wire_peer.ts";

const USERS = await loadUsers(USERS_FILE);

/** Server options, and the users (the fixture's by default). */
interface WorldOptions extends ServerOptions {
  users?: ReadonlyMap<string, string>;
}

/** A test's server and everything it opened, closed at the end. */
class World {
  readonly server: ChatServer;
  readonly address: Address;
  readonly events: LogEvent[] = [];
  readonly #peers: { close(): Promise<void> }[] = [];

  constructor({ users = USERS, ...options }: WorldOptions) {
    this.server = startServer(users, {
      hostname: "127.0.0.1",
      port: 0,
      log: (event) => this.events.push(event),
      ...options,
    });
    this.address = { hostname: this.server.hostname, port: this.server.port };
  }

  async connect(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await WirePeer.connect(this.address, { name, ...options });
    this.#peers.push(peer);
    return peer;
  }

  async login(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await this.connect(name, options);
    await peer.login(name, passwordOf(name));
    return peer;
  }

  async join(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await this.login(name, options);
    await peer.buildLb();
    return peer;
  }

  async netPeer(name: string): Promise<NetPeer> {
    const peer = await NetPeer.connect(this.address, name);
    this.#peers.push(peer);
    return peer;
  }

  /** Registers something else to close at the end. */
  track(closable: { close(): Promise<void> }): void {
    this.#peers.push(closable);
  }

  stats(): Holdings {
    return holdings(this.server.stats());
  }

  async close(): Promise<void> {
    await Promise.all(this.#peers.splice(0).map((peer) => peer.close()));
    await this.server.close();
  }
}

async function withWorld(
  options: WorldOptions,
  fn: (world: World) => Promise<void>,
): Promise<void> {
  const world = new World(options);
  try {
    await fn(world);
  } finally {
    await world.close();
  }
}

/** `n` users online with Lb, nothing in flight. */
function settled(n: number): Holdings {
  return {
    connections: n,
    online: n,
    lbLinks: n,
    locksHeld: 0,
    lockWaiters: 0,
    pendingReplies: 0,
    timers: 0,
  };
}

// ---------------------------------------------------------------------------
// A receiver that stops answering on Lb.

Deno.test("a receiver that stops answering on Lb: 304 after the reply timeout, logged out; others unaffected meanwhile", async () => {
  const REPLY_MS = 400;
  await withWorld({ replyTimeoutMs: REPLY_MS }, async (world) => {
    const bob = await world.join("bob", { autoReply: false });
    const jacky = await world.join("jacky");
    const alice = await world.join("alice");
    const carol = await world.join("carol");
    const michael = await world.join("michael");
    assert.deepEqual(world.stats(), settled(5));

    const sentAt = performance.now();
    await jacky.send("/to bob are you there?");
    await bob.lb.expectLine("/from jacky are you there?");
    // A second sender queues on bob's lock.
    await michael.send("/to bob me too");
    await pollUntil(
      () => world.server.stats().lockWaiters === 1,
      () => `michael is not waiting: ${JSON.stringify(world.stats())}`,
    );

    // While bob hangs, another pair is served: before bob's exchange ends,
    // and so before anyone's answer waits on it.
    await alice.request("/to carol quick", Status.DELIVERY_OK);
    await carol.lb.expectLine("/from alice quick");
    await alice.list();
    assert.equal(jacky.la.pending, 0, "bob's exchange ended first");
    assert.equal(world.server.stats().lockWaiters, 1, "bob's exchange ended");

    await jacky.expectLine(Status.DELIVERY_FAILED, REPLY_MS + LATE_MS);
    assertWaited(performance.now() - sentAt, REPLY_MS, "jacky's 304");
    // The sender queued behind is not made to wait for a second timeout:
    // bob had left when its turn came.
    const queued = await timed(() =>
      michael.expectLine(Status.DELIVERY_FAILED, REPLY_MS)
    );
    assert.ok(queued < REPLY_MS, `michael's 304 came ${queued} ms later`);
    assert.deepEqual(
      world.events.filter((e) => e.event === "delivery-failed")
        .map((e) => `${e.user} -> ${e.to}: ${e.cause}`),
      [
        `jacky -> bob: no receipt within ${REPLY_MS} ms`,
        "michael -> bob: receiver left",
      ],
    );

    await bob.la.expectClosed();
    await bob.lb.expectClosed();
    assert.deepEqual(await alice.list(), [
      "alice",
      "jacky",
      "carol",
      "michael",
    ]);
    await waitForHoldings(world.server, settled(4), 1_000);

    const back = await world.join("bob");
    await jacky.request("/to bob welcome back", Status.DELIVERY_OK);
    await back.lb.expectLine("/from jacky welcome back");
  });
});

// ---------------------------------------------------------------------------
// A reader that stalls.

/**
 * The largest value of a `net.ipv4` TCP buffer sysctl (its third field).
 * Read through `cat`: Deno allows reading `/proc/sys` only with all
 * permissions.
 */
async function sysctlMax(name: string, fallback: number): Promise<number> {
  try {
    const { stdout } = await new Deno.Command("cat", {
      args: [`/proc/sys/net/ipv4/${name}`],
      stdout: "piped",
      stderr: "null",
    }).output();
    const fields = new TextDecoder().decode(stdout).trim().split(/\s+/);
    return Number(fields.at(-1)) || fallback;
  } catch {
    return fallback;
  }
}

Deno.test("a stalled reader (sends, never reads) is dropped after the reply timeout; the server stops reading it; nobody else stalls", async () => {
  // Long enough for the others to be served meanwhile on a loaded machine.
  const REPLY_MS = 1_000;
  // What the kernel alone can buffer on loopback: the server's receive
  // buffer and our send buffer at their largest. A server that kept reading
  // (and queueing replies it cannot send) would take far more.
  const kernelBytes = await sysctlMax("tcp_rmem", 32 << 20) +
    await sysctlMax("tcp_wmem", 4 << 20) + (1 << 20);
  const capBytes = kernelBytes + (16 << 20);
  // Users with long names make every /list reply about 56 KB, so that a
  // peer that never reads fills its buffers after a hundred commands.
  const padding = Array.from(
    { length: 8 },
    (_, i) => `${String.fromCharCode(0x61 + i)}${"x".repeat(7_000)}`,
  );
  // alice's lines taken and not yet answered, at most, as the server's
  // trace shows them: a line is traced when taken, its reply when written.
  let unanswered = 0;
  let mostUnanswered = 0;
  const countAlice = (event: ServerTraceEvent) => {
    if (event.user !== "alice" || event.link !== "a") return;
    unanswered += event.from === "CLIENT" ? 1 : -1;
    mostUnanswered = Math.max(mostUnanswered, unanswered);
  };
  await withWorld(
    {
      replyTimeoutMs: REPLY_MS,
      users: new Map([
        ...USERS,
        ...padding.map((name) => [name, "pw"] as [string, string]),
      ]),
      trace: countAlice,
    },
    async (world) => {
      const jacky = await world.join("jacky");
      const bob = await world.join("bob");
      for (const name of padding) {
        const peer = await world.connect(name.slice(0, 1));
        await peer.login(name, "pw");
      }
      const baseline = {
        ...settled(2 + padding.length),
        lbLinks: 2,
      };
      assert.deepEqual(world.stats(), baseline);

      const stalled = await Deno.connect(world.address);
      let open = true;
      const closeStalled = () => {
        if (open) stalled.close();
        open = false;
      };
      world.track({ close: () => Promise.resolve(closeStalled()) });
      const encoder = new TextEncoder();
      await stalled.write(
        encoder.encode(`/login alice ${passwordOf("alice")}\n`),
      );
      // Read exactly the 101 line, then never read again.
      const ok = encoder.encode(`${Status.AUTH_OK}\n`);
      const got = new Uint8Array(ok.length);
      for (let n = 0; n < ok.length;) {
        const read = await stalled.read(got.subarray(n));
        assert.notEqual(read, null, "alice's La closed before 101");
        n += read!;
      }
      assert.deepEqual(got, ok);

      // Commands as fast as the server takes them, until it drops alice.
      const chunk = encoder.encode("/list\n".repeat(8192));
      let written = 0;
      const writer = (async () => {
        while (written < capBytes) {
          written += await stalled.write(chunk);
        }
        return "cap reached" as const;
      })().catch((error: unknown) => error);

      // The server's reply to alice is stuck behind her full buffers.
      await pollUntil(
        () => world.server.stats().timers >= 1,
        () => `no reply write pending: ${JSON.stringify(world.stats())}`,
      );
      const stalledAt = performance.now();
      // The others are served while alice's reply is stuck, not after.
      await jacky.request("/to bob not stalled", Status.DELIVERY_OK);
      await bob.lb.expectLine("/from jacky not stalled");
      await bob.request("/to jacky nor me", Status.DELIVERY_OK);
      await jacky.lb.expectLine("/from bob nor me");
      assert.ok(
        world.server.stats().connections === baseline.connections + 1,
        "alice was dropped before the others were served",
      );

      const outcome = await Promise.race([
        writer,
        delay(REPLY_MS + 3_000).then(() => "still writing" as const),
      ]);
      const dropped = performance.now() - stalledAt;
      assert.notEqual(
        outcome,
        "cap reached",
        `the server read ${written} bytes from a peer that never reads: it keeps no bound`,
      );
      assert.notEqual(
        outcome,
        "still writing",
        "the stalled reader was not dropped",
      );
      assert.ok(
        dropped < REPLY_MS + LATE_MS,
        `dropped ${Math.round(dropped)} ms after its replies stalled`,
      );
      assert.ok(
        world.events.some((e) =>
          e.event === "logout" && e.cause === "stopped reading its replies"
        ),
        "no logout of the stalled reader in the log",
      );
      assert.ok(
        written <= kernelBytes,
        `${written} bytes went in before the server stopped reading (kernel buffers: ${kernelBytes})`,
      );
      // Its memory is bounded: the reply being written, and 15 lines more
      // (16 in all) waiting their turn.
      assert.equal(mostUnanswered, 15, "lines held for a stalled reader");
      closeStalled();

      await waitForHoldings(world.server, baseline, 1_000);
      await jacky.request("/to bob after", Status.DELIVERY_OK);
      await bob.lb.expectLine("/from jacky after");
    },
  );
});

// ---------------------------------------------------------------------------
// Connections that never log in.

Deno.test("a connection that never logs in is closed after the login timeout, whatever it sends; a logged-in one is not", async () => {
  const LOGIN_MS = 400;
  await withWorld(
    { loginTimeoutMs: LOGIN_MS, loginThrottle: false },
    async (world) => {
      const jacky = await world.join("jacky");
      const bob = await world.login("bob"); // logged in, no /port ever
      const startedAt = performance.now();
      const idle = await world.netPeer("idle");
      const partial = await world.netPeer("partial");
      await partial.la.write("/login jac");
      const huge = await world.netPeer("huge");
      await huge.la.write("x".repeat(200_000));
      const failed = await world.netPeer("failed");
      await failed.send("a", "/login jacky wrong");
      await failed.expect("a", Status.AUTH_FAILED);
      const chatty = await world.netPeer("chatty");
      const chatter = (async () => {
        // Busy but never logged in: activity does not extend the timeout.
        while (!chatty.la.ended) {
          await chatty.send("a", "/list").catch(() => {});
          await delay(50);
        }
      })();

      const closedAfter = await Promise.all(
        [idle, partial, huge, failed, chatty].map(async (peer) => {
          await peer.la.expectEnd(LOGIN_MS + 2_000);
          return [peer.name, performance.now() - startedAt] as const;
        }),
      );
      await chatter;
      for (const [name, ms] of closedAfter) {
        assertWaited(ms, LOGIN_MS, `${name} closed`);
      }
      const timedOut = world.events.filter((e) =>
        e.event === "logout" && e.cause === `no login within ${LOGIN_MS} ms`
      );
      assert.equal(timedOut.length, closedAfter.length, "logged timeouts");
      assert.ok(
        !jacky.la.ended && !bob.la.ended,
        "a logged-in user was closed",
      );
      assert.deepEqual(await jacky.list(), ["jacky", "bob"]);
      assert.deepEqual(await bob.list(), ["bob", "jacky"]);
      await waitForHoldings(world.server, { ...settled(2), lbLinks: 1 }, 1_000);
    },
  );
});

// ---------------------------------------------------------------------------
// Too many connections.

Deno.test("past the connection cap new connections are closed at once and counted; existing users are unaffected", async () => {
  await withWorld({ maxConnections: 3 }, async (world) => {
    const bob = await world.join("bob");
    const alice = await world.join("alice");
    const idle = await world.netPeer("idle");
    await pollUntil(
      () => world.server.stats().connections === 3,
      () => `3 connections: ${JSON.stringify(world.stats())}`,
    );

    for (const [i, name] of ["fourth", "fifth"].entries()) {
      const connectedAt = performance.now();
      const extra = await world.netPeer(name);
      await extra.send("a", "/list").catch(() => {});
      const lines = await extra.la.expectEnd(1_000);
      const took = performance.now() - connectedAt;
      assert.deepEqual(lines, [], `${name} was answered`);
      assert.ok(took < 1_000, `${name} closed after ${Math.round(took)} ms`);
      assert.equal(world.server.stats().refusedConnections, i + 1);
    }
    assert.ok(
      world.events.some((event) =>
        event.event === "connection-refused" && event.level === "error"
      ),
      `no refusal logged: ${JSON.stringify(world.events.map((e) => e.event))}`,
    );

    await bob.request("/to alice still fine", Status.DELIVERY_OK);
    await alice.lb.expectLine("/from bob still fine");
    assert.deepEqual(await alice.list(), ["alice", "bob"]);

    // A slot freed is a slot taken.
    await idle.close();
    await pollUntil(
      () => world.server.stats().connections === 2,
      () => `idle still counted: ${JSON.stringify(world.stats())}`,
    );
    await world.join("jacky");
    assert.deepEqual(await bob.list(), ["bob", "alice", "jacky"]);
  });
});

// ---------------------------------------------------------------------------
// TCP keepalive.

Deno.test("TCP keepalive is on for the server's end of La and of Lb", async () => {
  await withWorld({}, async (world) => {
    const bob = await world.join("bob");
    const laPort = (bob.la.conn.localAddr as Deno.NetAddr).port;
    const lbPort = (bob.lb.conn.localAddr as Deno.NetAddr).port;
    const serverPort = world.server.port;
    const isServerLa = (row: SocketRow) =>
      row.local === `127.0.0.1:${serverPort}` &&
      row.peer === `127.0.0.1:${laPort}`;
    const isServerLb = (row: SocketRow) => row.peer === `127.0.0.1:${lbPort}`;
    const isClientLa = (row: SocketRow) =>
      row.local === `127.0.0.1:${laPort}` &&
      row.peer === `127.0.0.1:${serverPort}`;
    // ss shows one timer per socket: while a reply still awaits its
    // (delayed) ACK, that is the retransmission timer. Poll until idle.
    let rows: SocketRow[] = [];
    await pollUntil(
      async () => {
        rows = await tcpSockets([serverPort, lbPort]);
        return [isServerLa, isServerLb].every((test) =>
          rows.some((row) => test(row) && row.keepalive)
        );
      },
      () =>
        `no keepalive timer on the server's end of La and Lb:\n${
          rows.map((row) => row.text).join("\n")
        }`,
    );
    // The check tells sockets apart: the test's own end has no keepalive.
    const control = rows.find(isClientLa);
    assert.ok(control, `bob's end of La is not listed`);
    assert.ok(!control.keepalive, `control: ${control.text}`);
  });
});
