/**
 * The server a test talks to. With `IM_SERVER=host:port` in the environment,
 * tests aim at that external server, which must have been started with
 * `tests/fixtures/users.txt`; with `IM_TOPOLOGY=cluster`, each test starts a
 * `nats-server` and three in-process cluster nodes, and peers connect to the
 * nodes in turn, so that every exchange between two peers crosses nodes;
 * otherwise each test starts the in-process server on a free loopback port.
 * The in-process servers have short timeouts, and are closed afterwards.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  type ChatServer,
  loadUsers,
  type ServerStats,
  startServer,
} from "../../lib/server/mod.ts";
import { startNodes } from "./cluster.ts";
import { NatsServer } from "./nats.ts";
import { delay } from "../../lib/async/delay.ts";
import {
  type Address,
  type PeerOptions,
  Status,
  WirePeer,
} from "./wire_peer.ts";

/** Reply timeout of the in-process server, in milliseconds. */
export const REPLY_TIMEOUT_MS = 500;

/** Connect timeout (for Lb) of the in-process server, in milliseconds. */
export const CONNECT_TIMEOUT_MS = 1000;

/** The users file every target must use. */
export const USERS_FILE = fileURLToPath(
  new URL("../fixtures/users.txt", import.meta.url),
);

/** Whether each test runs on a 3-node cluster (`IM_TOPOLOGY=cluster`). */
export const ON_CLUSTER: boolean = Deno.env.get("IM_TOPOLOGY") === "cluster";

/** The external server's address from `IM_SERVER`, if set. */
export const EXTERNAL: Address | undefined = parseAddress(
  Deno.env.get("IM_SERVER"),
);

/**
 * True when tests aim at an external server: tests that rely on the
 * in-process server's short timeouts or its `stats()` are then ignored.
 */
export const IS_EXTERNAL = EXTERNAL !== undefined;

function parseAddress(value: string | undefined): Address | undefined {
  if (!value) return undefined;
  const colon = value.lastIndexOf(":");
  const hostname = value.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`IM_SERVER must be host:port, got ${value}`);
  }
  return { hostname, port };
}

/** The fixture's passwords, read independently of the code under test. */
export const PASSWORDS: ReadonlyMap<string, string> = new Map(
  Deno.readTextFileSync(USERS_FILE)
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => line.trim().split(" ") as [string, string]),
);

/** The password of fixture user `name`. */
export function passwordOf(name: string): string {
  const password = PASSWORDS.get(name);
  assert.ok(password !== undefined, `no fixture user ${name}`);
  return password;
}

/**
 * Polls `condition` until it holds, failing after `timeoutMs`.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting until ${what}`);
    await delay(10);
  }
}

/**
 * Asserts that nothing reaches `receiver`'s Lb from what was sent before:
 * `sender` sends `/to <receiver> <marker>`, and the marker must be the
 * receiver's next line there. The server answers each sender's commands in
 * order, one exchange at a time per receiver, so a line that should not
 * have been delivered would come before the marker.
 */
export async function expectNothingMoreOnLb(
  receiver: WirePeer,
  sender: WirePeer,
): Promise<void> {
  const marker = `marker ${crypto.randomUUID()}`;
  await sender.send(`/to ${receiver.name} ${marker}`);
  await receiver.lb.expectLine(`/from ${sender.name} ${marker}`);
  if (!receiver.autoReply) await receiver.lb.send(Status.RECEIPT_OK);
  await sender.expectLine(Status.DELIVERY_OK);
}

/**
 * Asserts that nothing came on `peer`'s La but the replies it read: its
 * next line, after a `/list`, is the `301`.
 */
export async function expectNothingMoreOnLa(peer: WirePeer): Promise<void> {
  await peer.send("/list");
  assert.match(await peer.expectLine(), /^301 /, `${peer.name}: on La`);
}

/**
 * Waits until `count` senders wait for a receiver's lock; on an external
 * server, whose state cannot be seen, gives them `fallbackMs` instead.
 */
export async function untilLockWaiters(
  target: Target,
  count: number,
  fallbackMs: number,
): Promise<void> {
  if (target.server === undefined) {
    await delay(fallbackMs);
    return;
  }
  const server = target.server;
  await waitUntil(
    () => server.stats().lockWaiters === count,
    `${count} senders wait for the lock (${server.stats().lockWaiters} do)`,
  );
}

/** Options of {@linkcode withTarget}. */
export interface TargetOptions {
  /** Host of the in-process server (default 127.0.0.1). */
  hostname?: string;
}

/** What the tests read of in-process servers. */
export interface StatsSource {
  /** Counts of what the server (or every node, added up) holds. */
  stats(): ServerStats;
}

/**
 * A test's server and the peers it opened; every peer is closed at the end.
 */
export class Target {
  /** Where the server listens (on a cluster: the first node). */
  readonly address: Address;
  /** The in-process server or nodes, or undefined for an external one. */
  readonly server?: StatsSource;
  readonly #addresses: Address[];
  readonly #peers: WirePeer[] = [];
  #turn = 0;

  constructor(addresses: Address[], server?: StatsSource) {
    this.address = addresses[0];
    this.#addresses = addresses;
    this.server = server;
  }

  /** Opens La of a new peer (closed with the target), at the next node. */
  async connect(options: PeerOptions = {}): Promise<WirePeer> {
    const address = this.#addresses[this.#turn++ % this.#addresses.length];
    const peer = await WirePeer.connect(address, options);
    this.#peers.push(peer);
    return peer;
  }

  /** A new peer logged in as fixture user `name` (`101` asserted). */
  async login(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await this.connect({ name, ...options });
    await peer.login(name, passwordOf(name));
    return peer;
  }

  /** A new peer logged in as `name` with its Lb built (`101`, `201`). */
  async join(name: string, options: PeerOptions = {}): Promise<WirePeer> {
    const peer = await this.login(name, options);
    await peer.buildLb();
    return peer;
  }

  /** The in-process server's stats (asserts the server is in-process). */
  stats(): { connections: number; online: number } {
    assert.ok(this.server, "stats() needs the in-process server");
    return this.server.stats();
  }

  /** Closes every peer. */
  async closePeers(): Promise<void> {
    await Promise.all(this.#peers.splice(0).map((peer) => peer.close()));
  }
}

/**
 * Runs `fn` against the target server; afterwards closes every peer and, for
 * the in-process server, the server. For an external server it waits until
 * every user has left, so that the next test starts from an empty list.
 */
export async function withTarget(
  fn: (target: Target) => Promise<void>,
  options: TargetOptions = {},
): Promise<void> {
  let server: ChatServer | undefined;
  let target: Target;
  if (EXTERNAL) {
    target = new Target([EXTERNAL]);
  } else if (ON_CLUSTER) {
    await withCluster(fn, options);
    return;
  } else {
    server = startServer(await loadUsers(USERS_FILE), {
      hostname: options.hostname ?? "127.0.0.1",
      port: 0,
      replyTimeoutMs: REPLY_TIMEOUT_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      log: () => {},
    });
    target = new Target(
      [{ hostname: server.hostname, port: server.port }],
      server,
    );
  }
  let failure: unknown;
  try {
    await fn(target);
  } catch (error) {
    failure = error;
  }
  try {
    await target.closePeers();
    if (server) await server.close();
    else await settle(target);
  } catch (error) {
    failure ??= error; // the test's own failure comes first
  }
  if (failure !== undefined) throw failure;
}

/** {@linkcode withTarget} on a 3-node cluster. */
async function withCluster(
  fn: (target: Target) => Promise<void>,
  options: TargetOptions,
): Promise<void> {
  await using nats = await NatsServer.start();
  await using cluster = await startNodes(
    [nats.url],
    await loadUsers(USERS_FILE),
    {
      server: {
        hostname: options.hostname ?? "127.0.0.1",
        replyTimeoutMs: REPLY_TIMEOUT_MS,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        loginThrottle: {},
      },
    },
  );
  const target = new Target(
    cluster.nodes.map((node) => node.address),
    { stats: () => addStats(cluster.nodes.map((node) => node.server.stats())) },
  );
  try {
    await fn(target);
  } finally {
    await target.closePeers();
  }
}

function addStats(all: ServerStats[]): ServerStats {
  const total = { ...all[0] };
  for (const stats of all.slice(1)) {
    for (const key of Object.keys(total) as (keyof ServerStats)[]) {
      total[key] += stats[key];
    }
  }
  return total;
}

/** Waits until the external server's only online user is a fresh sentinel. */
async function settle(target: Target): Promise<void> {
  const sentinel = await target.connect({ name: "sentinel" });
  try {
    await waitUntil(async () => {
      await sentinel.send(`/login sentinel ${passwordOf("sentinel")}`);
      return await sentinel.expectLine() === "101 Authentication successful";
    }, "the sentinel can log in");
    await waitUntil(
      async () => (await sentinel.list()).join(" ") === "sentinel",
      "every user of the test has left",
    );
  } finally {
    await target.closePeers();
  }
}
