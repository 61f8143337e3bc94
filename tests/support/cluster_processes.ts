/**
 * Cluster nodes as real `server.ts` processes, for the fault tests that kill,
 * pause and resume them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { delay } from "../../lib/async/delay.ts";
import { countLines, pollUntil, startServerProcess } from "./faults.ts";
import type { ProcessScope, ServerProcess } from "./processes.ts";
import { passwordOf, USERS_FILE } from "./target.ts";
import { type Address, Status, WirePeer } from "./wire_peer.ts";

/** A node process and where it listens. */
export interface NodeProcess {
  /** The node's name. */
  name: string;
  /** The process. */
  process: ServerProcess;
  /** Where its server listens. */
  address: Address;
}

/**
 * Starts `server.ts` as node `name` of the cluster on `urls`, with the test
 * users (`tests/fixtures/users.txt`).
 */
export async function startNodeProcess(
  scope: ProcessScope,
  urls: string[],
  name: string,
  options: string[] = [],
): Promise<NodeProcess> {
  const process = await startServerProcess(
    scope,
    [`--cluster=${urls.join(",")}`, `--node-name=${name}`, ...options],
    USERS_FILE,
  );
  return {
    name,
    process,
    address: { hostname: "127.0.0.1", port: process.port! },
  };
}

/** Peers that close together. */
export class PeerSet implements AsyncDisposable {
  readonly #all: WirePeer[] = [];

  /** Opens La to `address`. */
  async connect(address: Address, name: string): Promise<WirePeer> {
    const peer = await WirePeer.connect(address, { name });
    this.#all.push(peer);
    return peer;
  }

  /** A peer logged in as `name` with Lb built. */
  async join(address: Address, name: string): Promise<WirePeer> {
    const peer = await this.connect(address, name);
    await peer.join(name, passwordOf(name));
    return peer;
  }

  /**
   * Logs `name` in at `address`, trying again after each `102` until
   * `timeoutMs`; returns the peer, Lb built, and when the `101` came.
   */
  async joinWithin(
    address: Address,
    name: string,
    timeoutMs: number,
  ): Promise<WirePeer> {
    const deadline = performance.now() + timeoutMs;
    const peer = await this.connect(address, name);
    for (;;) {
      await peer.send(`/login ${name} ${passwordOf(name)}`);
      const reply = await peer.expectLine(undefined, timeoutMs);
      if (reply === Status.AUTH_OK) break;
      assert.equal(reply, Status.AUTH_FAILED);
      assert.ok(
        performance.now() < deadline,
        `${name} could not log in at ${address.port} within ${timeoutMs} ms`,
      );
      await delay(100);
    }
    await peer.buildLb();
    return peer;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.#all.map((peer) => peer.close()));
  }
}

/**
 * Waits until `/list` on `peer`, sorted, is `expected`, sorted; returns how
 * long that took.
 */
export async function listBecomes(
  peer: WirePeer,
  expected: string[],
  timeoutMs: number,
): Promise<number> {
  const started = performance.now();
  let names: string[] = [];
  await pollUntil(
    async () => {
      names = await peer.list();
      return names.slice().sort().join(" ") ===
        expected.slice().sort().join(" ");
    },
    () =>
      `${peer.name}: /list is ${names.join(" ")}, not ${
        expected.join(" ")
      } after ${timeoutMs} ms`,
    timeoutMs,
  );
  return performance.now() - started;
}

/** Asserts that no name appears twice in `names`. */
export function assertOnce(names: string[], who: string): void {
  assert.equal(
    new Set(names).size,
    names.length,
    `${who}: a name is listed twice: ${names.join(" ")}`,
  );
}

/**
 * Sends `/to` from `sender` to `receiver` until it is delivered, within
 * `timeoutMs`: a cluster recovering from a fault answers `304` (and delivers
 * nothing) until it can deliver again.
 */
export async function deliverWithin(
  sender: WirePeer,
  receiver: WirePeer,
  content: string,
  timeoutMs: number,
): Promise<void> {
  await pollUntil(
    async () => {
      await sender.send(`/to ${receiver.name} ${content}`);
      if (await sender.expectLine(undefined, 25_000) !== Status.DELIVERY_OK) {
        return false;
      }
      await receiver.lb.expectLine(`/from ${sender.name} ${content}`);
      return true;
    },
    () => `${sender.name} could not reach ${receiver.name}`,
    timeoutMs,
  );
}

/** How many lines of the node's log match `pattern`. */
export function logLines(node: NodeProcess, pattern: RegExp): number {
  return countLines(node.process.stderr, pattern);
}
