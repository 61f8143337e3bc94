/**
 * The NATS server killed under a running cluster, then restarted with or
 * without its store: the scenario shared by the two tests that run it.
 *
 * While NATS is down: logins get `102`, users online stay online, `/to`
 * between users of one node still works and `/to` across nodes gets `304`.
 * Within 10 s of NATS's return, every connected user is listed exactly once
 * on every node and can send and receive again.
 *
 * @module
 */

import assert from "node:assert/strict";
import { delay } from "../../lib/async/delay.ts";
import { DEAD_AFTER_MS } from "../../lib/cluster/mod.ts";
import {
  assertOnce,
  deliverWithin,
  listBecomes,
  PeerSet,
  startNodeProcess,
} from "./cluster_processes.ts";
import { NatsServer } from "./nats.ts";
import { ProcessScope } from "./processes.ts";
import { passwordOf } from "./target.ts";
import { Status } from "./wire_peer.ts";

/** Runs the scenario; `keepStore` says whether NATS comes back with its store. */
export async function natsOutage(keepStore: boolean): Promise<void> {
  await using nats = await NatsServer.start();
  await using scope = new ProcessScope();
  const [a, b] = await Promise.all(
    ["a", "b"].map((name) => startNodeProcess(scope, [nats.url], name)),
  );
  await using peers = new PeerSet();
  const jacky = await peers.join(a.address, "jacky");
  const alice = await peers.join(a.address, "alice");
  const bob = await peers.join(b.address, "bob");
  const everyone = ["jacky", "alice", "bob"];
  await listBecomes(bob, everyone, 1_000);

  await nats.kill();
  // Uniqueness cannot be checked: no login.
  const carol = await peers.connect(a.address, "carol");
  await carol.send(`/login carol ${passwordOf("carol")}`);
  await carol.expectLine(Status.AUTH_FAILED);
  // Users of one node still reach each other; across nodes, 304.
  await jacky.request("/to alice still here?", Status.DELIVERY_OK);
  await alice.lb.expectLine("/from jacky still here?");
  await jacky.request("/to bob across?", Status.DELIVERY_FAILED);
  await bob.request("/to jacky across?", Status.DELIVERY_FAILED);

  // Down for longer than a node takes to judge another dead: returning, no
  // node may take the others for dead.
  await delay(DEAD_AFTER_MS + 1_000);
  await nats.restart({ keepStore });
  const back = performance.now();
  const left = () => 10_000 - (performance.now() - back);
  // Sending works again, both ways: each 304 before that was delivered to
  // nobody.
  await deliverWithin(jacky, bob, "across again", left());
  await deliverWithin(bob, alice, "and back", left());
  // Logins work, and the bucket knows every name again.
  const carolOnB = await peers.joinWithin(b.address, "carol", left());
  await carol.send(`/login carol ${passwordOf("carol")}`);
  await carol.expectLine(Status.AUTH_FAILED);
  const jackyAgain = await peers.connect(b.address, "jacky-again");
  await jackyAgain.send(`/login jacky ${passwordOf("jacky")}`);
  await jackyAgain.expectLine(Status.AUTH_FAILED);
  for (const peer of [jacky, alice, bob, carolOnB]) {
    await listBecomes(peer, [...everyone, "carol"], left());
    assertOnce(await peer.list(), peer.name);
  }
  assert.ok(left() > 0, "the cluster took over 10 s to recover");
  for (const node of [a, b]) {
    assert.doesNotMatch(node.process.stderr, /closing the session here/);
  }
}
