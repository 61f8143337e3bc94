/**
 * The protocol's semantics held cluster-wide: three in-process nodes on one
 * NATS server, users on different nodes. Login uniqueness (races included),
 * one `/list` order everywhere and how fast it spreads, `/to` and `/toall`
 * across nodes, one exchange at a time per receiver across nodes.
 */

import assert from "node:assert/strict";
import { loadUsers } from "../lib/server/mod.ts";
import { startNodes } from "./support/cluster.ts";
import { PeerSet } from "./support/cluster_processes.ts";
import { pollUntil } from "./support/faults.ts";
import { NatsServer } from "./support/nats.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import { Status, type WirePeer } from "./support/wire_peer.ts";

const USERS = await loadUsers(USERS_FILE);
const REPLY_TIMEOUT_MS = 500;

/** Sends `/login` for `name` and returns the reply. */
async function tryLogin(peer: WirePeer, name: string): Promise<string> {
  await peer.send(`/login ${name} ${passwordOf(name)}`);
  return await peer.expectLine();
}

/** Polls `/list` on `peer` until `done(names)`; returns the time taken. */
async function listUntil(
  peer: WirePeer,
  done: (names: string[]) => boolean,
  timeoutMs = 1_000,
): Promise<number> {
  const started = performance.now();
  for (;;) {
    const names = await peer.list();
    const took = performance.now() - started;
    if (done(names)) return took;
    assert.ok(
      took < timeoutMs,
      `${peer.name}: /list still ${names.join(" ")} after ${timeoutMs} ms`,
    );
  }
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

Deno.test("cluster: the protocol holds across three nodes", async (t) => {
  await using nats = await NatsServer.start();
  await using cluster = await startNodes([nats.url], USERS, {
    server: { replyTimeoutMs: REPLY_TIMEOUT_MS },
  });
  const [n1, n2, n3] = cluster.nodes.map((node) => node.address);

  await t.step(
    "a user online on one node gets 102 on every other",
    async () => {
      await using peers = new PeerSet();
      const bob = await peers.join(n1, "bob");
      for (const address of [n2, n3]) {
        const again = await peers.connect(address, "bob-again");
        assert.equal(await tryLogin(again, "bob"), Status.AUTH_FAILED);
      }
      await bob.request("/exit", Status.BYE);
      const later = await peers.connect(n2, "bob-later");
      assert.equal(await tryLogin(later, "bob"), Status.AUTH_OK);
      await later.request("/exit", Status.BYE);
    },
  );

  await t.step(
    "two nodes racing to log in one name: exactly one wins",
    async () => {
      for (let round = 0; round < 10; round++) {
        await using peers = new PeerSet();
        const racers = await Promise.all(
          [n1, n2, n3].map((address) => peers.connect(address, "alice")),
        );
        const replies = await Promise.all(
          racers.map((peer) => tryLogin(peer, "alice")),
        );
        assert.deepEqual(
          replies.filter((reply) => reply === Status.AUTH_OK).length,
          1,
          `round ${round}: ${JSON.stringify(replies)}`,
        );
        const winner = racers[replies.indexOf(Status.AUTH_OK)];
        await winner.request("/exit", Status.BYE);
      }
    },
  );

  await t.step(
    "/list: the requester, then cluster-wide login order, the same on every node",
    async () => {
      await using peers = new PeerSet();
      const bob = await peers.join(n1, "bob");
      const jacky = await peers.join(n2, "jacky");
      const michael = await peers.join(n3, "michael");
      const carol = await peers.join(n2, "carol");
      assert.deepEqual(await jacky.list(), [
        "jacky",
        "bob",
        "michael",
        "carol",
      ]);
      assert.deepEqual(await bob.list(), ["bob", "jacky", "michael", "carol"]);
      assert.deepEqual(await michael.list(), [
        "michael",
        "bob",
        "jacky",
        "carol",
      ]);
      assert.deepEqual(await carol.list(), [
        "carol",
        "bob",
        "jacky",
        "michael",
      ]);
    },
  );

  await t.step(
    "a 101 shows in /list on every node within 1 s, p99 under 100 ms; a leaver is gone as fast",
    async () => {
      await using peers = new PeerSet();
      const watchers = [
        await peers.join(n2, "oscar"),
        await peers.join(n3, "peggy"),
      ];
      const arrivals: number[] = [];
      const departures: number[] = [];
      for (let round = 0; round < 20; round++) {
        const grace = await peers.connect(n1, "grace");
        assert.equal(await tryLogin(grace, "grace"), Status.AUTH_OK);
        const seen = await Promise.all(
          watchers.map((watcher) =>
            listUntil(watcher, (names) => names.includes("grace"))
          ),
        );
        arrivals.push(Math.max(...seen));
        await grace.request("/exit", Status.BYE);
        const gone = await Promise.all(
          watchers.map((watcher) =>
            listUntil(watcher, (names) => !names.includes("grace"))
          ),
        );
        departures.push(Math.max(...gone));
      }
      assert.ok(
        percentile(arrivals, 0.99) < 100,
        `p99 of a login reaching /list: ${percentile(arrivals, 0.99)} ms`,
      );
      assert.ok(
        percentile(departures, 0.99) < 100,
        `p99 of a leave reaching /list: ${percentile(departures, 0.99)} ms`,
      );
    },
  );

  await t.step(
    "/to across nodes: 303 for a 302, 304 for anything else, 304 at once for nobody",
    async () => {
      await using peers = new PeerSet();
      const jacky = await peers.join(n1, "jacky");
      const bob = await peers.join(n2, "bob");
      await jacky.request(
        "/to bob Hello! Nice to meet you!",
        Status.DELIVERY_OK,
      );
      await bob.lb.expectLine("/from jacky Hello! Nice to meet you!");

      bob.autoReply = false;
      await jacky.send("/to bob are you there?");
      await bob.lb.expectLine("/from jacky are you there?");
      await bob.lb.send("303 not a receipt");
      await jacky.expectLine(Status.DELIVERY_FAILED);
      bob.autoReply = true;

      const started = performance.now();
      await jacky.request("/to judy hi", Status.DELIVERY_FAILED);
      assert.ok(performance.now() - started < 200, "304 for nobody came late");
    },
  );

  await t.step(
    "/to across nodes: a silent receiver gives 304 after the reply timeout and is logged out everywhere",
    async () => {
      await using peers = new PeerSet();
      const jacky = await peers.join(n1, "jacky");
      const bob = await peers.join(n2, "bob");
      bob.autoReply = false;
      const started = performance.now();
      await jacky.send("/to bob hello?");
      await bob.lb.expectLine("/from jacky hello?");
      await jacky.expectLine(Status.DELIVERY_FAILED, 5 * REPLY_TIMEOUT_MS);
      const took = performance.now() - started;
      assert.ok(took >= REPLY_TIMEOUT_MS * 0.9, `304 after only ${took} ms`);
      await bob.la.expectClosed();
      await listUntil(jacky, (names) => !names.includes("bob"));
    },
  );

  await t.step(
    "one exchange at a time per receiver, cluster-wide",
    async () => {
      await using peers = new PeerSet();
      const jacky = await peers.join(n1, "jacky");
      const michael = await peers.join(n3, "michael");
      const bob = await peers.join(n2, "bob");
      bob.autoReply = false;
      await jacky.send("/to bob first");
      const first = await bob.lb.expectLine();
      await michael.send("/to bob second");
      // michael's line waits for bob's lock on bob's node.
      await bob.lb.expectSilence(200);
      await bob.lb.send(Status.RECEIPT_OK);
      const second = await bob.lb.expectLine();
      await bob.lb.send(Status.RECEIPT_OK);
      assert.deepEqual(
        [first, second].sort(),
        ["/from jacky first", "/from michael second"],
      );
      await jacky.expectLine(Status.DELIVERY_OK);
      await michael.expectLine(Status.DELIVERY_OK);
    },
  );

  await t.step(
    "/toall reaches every other user of the cluster at once; 303 only if all answer 302",
    async () => {
      await using peers = new PeerSet();
      const jacky = await peers.join(n1, "jacky");
      const receivers = [
        await peers.join(n1, "alice"),
        await peers.join(n2, "bob"),
        await peers.join(n3, "michael"),
        await peers.join(n3, "carol"),
      ];
      for (const receiver of receivers) receiver.autoReply = false;
      await jacky.send("/toall How about meeting at 3pm today?");
      // Every receiver has the line before any has answered: concurrent.
      for (const receiver of receivers) {
        await receiver.lb.expectLine(
          "/broadcastfrom jacky How about meeting at 3pm today?",
        );
      }
      for (const receiver of receivers) {
        await receiver.lb.send(Status.RECEIPT_OK);
      }
      await jacky.expectLine(Status.DELIVERY_OK);

      await jacky.send("/toall again");
      for (const receiver of receivers) {
        await receiver.lb.expectLine("/broadcastfrom jacky again");
      }
      const [alice, bob, michael, carol] = receivers;
      await alice.lb.send(Status.RECEIPT_OK);
      await bob.lb.send(Status.RECEIPT_OK);
      await michael.lb.send("401 Unrecognized message");
      await carol.lb.send(Status.RECEIPT_OK);
      await jacky.expectLine(Status.DELIVERY_FAILED);
      for (const receiver of receivers) await receiver.lb.expectSilence(50);
    },
  );
});

Deno.test("cluster: a node with another users file warns at start", async () => {
  await using nats = await NatsServer.start();
  await using first = await startNodes([nats.url], USERS, { count: 1 });
  const other = new Map([...USERS, ["zed", "zed-pass"]]);
  await using second = await startNodes([nats.url], other, {
    count: 1,
    names: ["odd"],
  });
  const events = second.nodes[0].events;
  await pollUntil(
    () => events.some((event) => event.event === "users-file-differs"),
    () => "the node with another users file did not warn",
    2_000,
  );
  assert.ok(
    !first.nodes[0].events.some((event) =>
      event.event === "users-file-differs"
    ),
    "the first node warned",
  );
});
