/**
 * A cluster node killed (SIGKILL), as real processes: senders to its users get
 * `304` within a second, even one whose message was in flight; its users are
 * gone from `/list` on every other node, and free to log in elsewhere, within
 * 10 s; nothing is delivered twice.
 */

import assert from "node:assert/strict";
import {
  listBecomes,
  PeerSet,
  startNodeProcess,
} from "./support/cluster_processes.ts";
import { NatsServer } from "./support/nats.ts";
import { ProcessScope } from "./support/processes.ts";
import { Status } from "./support/wire_peer.ts";

Deno.test("cluster: a node killed with SIGKILL", async () => {
  await using nats = await NatsServer.start();
  await using scope = new ProcessScope();
  const [a, b, c] = await Promise.all(
    ["a", "b", "c"].map((name) => startNodeProcess(scope, [nats.url], name)),
  );
  await using peers = new PeerSet();
  const jacky = await peers.join(a.address, "jacky");
  const alice = await peers.join(c.address, "alice");
  const bob = await peers.join(b.address, "bob");
  await peers.join(b.address, "michael");
  await listBecomes(jacky, ["jacky", "alice", "bob", "michael"], 1_000);
  await jacky.request("/to bob before", Status.DELIVERY_OK);
  await bob.lb.expectLine("/from jacky before");

  // jacky's next message is in flight on bob's node when it dies.
  bob.autoReply = false;
  await jacky.send("/to bob in flight");
  await bob.lb.expectLine("/from jacky in flight");
  b.process.kill("SIGKILL");
  const killed = performance.now();
  await jacky.expectLine(Status.DELIVERY_FAILED, 1_000);
  assert.ok(performance.now() - killed < 1_000, "304 in flight came late");

  const sent = performance.now();
  await alice.request("/to michael anyone?", Status.DELIVERY_FAILED);
  assert.ok(performance.now() - sent < 1_000, "304 to a dead node came late");

  await listBecomes(
    jacky,
    ["jacky", "alice"],
    10_000 - (performance.now() - killed),
  );
  await listBecomes(
    alice,
    ["alice", "jacky"],
    10_000 - (performance.now() - killed),
  );

  const bobAgain = await peers.joinWithin(
    c.address,
    "bob",
    10_000 - (performance.now() - killed),
  );
  // A login shows on every node within a second.
  await listBecomes(jacky, ["jacky", "alice", "bob"], 1_000);
  await jacky.request("/to bob welcome back", Status.DELIVERY_OK);
  await bobAgain.lb.expectLine("/from jacky welcome back");
  // Nothing more: the message in flight at the kill is not sent again.
  await bobAgain.lb.expectSilence(300);
  assert.deepEqual(await alice.list(), ["alice", "jacky", "bob"]);
});
