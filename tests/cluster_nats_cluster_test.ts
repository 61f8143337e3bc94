/**
 * Nodes on a 3-server NATS cluster, with the presence bucket replicated 3
 * times. With one NATS server down everything works; with two down, logins
 * are refused rather than risk a duplicate; once they are back no name is
 * online twice, even after a login whose outcome was unknown.
 */

import assert from "node:assert/strict";
import {
  assertOnce,
  deliverWithin,
  listBecomes,
  PeerSet,
  startNodeProcess,
} from "./support/cluster_processes.ts";
import { startNatsCluster } from "./support/nats.ts";
import { ProcessScope } from "./support/processes.ts";
import { passwordOf } from "./support/target.ts";
import { Status } from "./support/wire_peer.ts";

Deno.test("cluster: on a 3-server NATS cluster, one server down is fine and two down refuse logins", async () => {
  const servers = await startNatsCluster();
  const [s1, s2, s3] = servers;
  try {
    await using scope = new ProcessScope();
    const urls = servers.map((server) => server.url);
    const [a, b] = await Promise.all([
      startNodeProcess(scope, urls, "a", ["--cluster-replicas=3"]),
      startNodeProcess(scope, [s2.url, s3.url, s1.url], "b", [
        "--cluster-replicas=3",
      ]),
    ]);
    await using peers = new PeerSet();
    const jacky = await peers.join(a.address, "jacky");
    const bob = await peers.join(b.address, "bob");
    await listBecomes(jacky, ["jacky", "bob"], 1_000);
    await deliverWithin(jacky, bob, "all three up", 1_000);

    // One NATS server down: everything works.
    await s1.kill();
    await deliverWithin(jacky, bob, "one down", 10_000);
    await deliverWithin(bob, jacky, "one down, back", 10_000);
    const carol = await peers.joinWithin(a.address, "carol", 10_000);
    // A watch whose NATS server died is noticed and replaced within a few
    // seconds; on a loaded machine, JetStream's own recovery takes longer.
    await listBecomes(bob, ["bob", "jacky", "carol"], 20_000).catch((error) => {
      throw new Error(
        `${error.message}\nnode a:\n${a.process.stderr}\nnode b:\n${b.process.stderr}`,
      );
    });

    // Two down: no majority for the bucket. A login is refused, not risked.
    await s2.kill();
    const dave = await peers.connect(a.address, "dave");
    await dave.send(`/login dave ${passwordOf("dave")}`);
    await dave.expectLine(Status.AUTH_FAILED, 15_000);
    const daveOnB = await peers.connect(b.address, "dave-on-b");
    await daveOnB.send(`/login dave ${passwordOf("dave")}`);
    await daveOnB.expectLine(Status.AUTH_FAILED, 15_000);

    // Both back: nobody twice, dave (whose first login's outcome was
    // unknown) not left listed, and dave free to log in.
    await Promise.all([
      s1.restart({ keepStore: true }),
      s2.restart({ keepStore: true }),
    ]);
    const daveAgain = await peers.joinWithin(b.address, "dave", 20_000);
    for (const peer of [jacky, bob, carol, daveAgain]) {
      await listBecomes(peer, ["jacky", "bob", "carol", "dave"], 10_000);
      assertOnce(await peer.list(), peer.name);
    }
    await deliverWithin(jacky, daveAgain, "welcome", 10_000);
    assert.doesNotMatch(a.process.stderr, /closing the session here/);
    assert.doesNotMatch(b.process.stderr, /closing the session here/);
  } finally {
    for (const server of servers) await server[Symbol.asyncDispose]();
  }
});
