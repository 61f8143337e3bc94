/**
 * A cluster node paused (SIGSTOP) for 20 s, then resumed, as real processes.
 * While paused it counts as dead, as if killed: senders to its users get
 * `304`, its users leave `/list` and may log in elsewhere. Resumed, it closes
 * each session whose name another node now holds, with one log line each, and
 * its other users carry on: no name is ever online twice.
 */

import assert from "node:assert/strict";
import { delay } from "../lib/async/delay.ts";
import {
  assertOnce,
  listBecomes,
  logLines,
  PeerSet,
  startNodeProcess,
} from "./support/cluster_processes.ts";
import { NatsServer } from "./support/nats.ts";
import { ProcessScope } from "./support/processes.ts";
import { Status } from "./support/wire_peer.ts";

const PAUSE_MS = 20_000;

Deno.test("cluster: a node paused for 20 s, then resumed", async () => {
  await using nats = await NatsServer.start();
  await using scope = new ProcessScope();
  const [a, b, c] = await Promise.all(
    ["a", "b", "c"].map((name) => startNodeProcess(scope, [nats.url], name)),
  );
  await using peers = new PeerSet();
  const jacky = await peers.join(a.address, "jacky");
  const bob = await peers.join(b.address, "bob");
  const michael = await peers.join(b.address, "michael");
  await listBecomes(jacky, ["jacky", "bob", "michael"], 1_000);

  b.process.kill("SIGSTOP");
  const paused = performance.now();
  try {
    // Counted dead: a /to gets 304 (at once, once the node is judged dead).
    await jacky.send("/to bob are you there?");
    await jacky.expectLine(Status.DELIVERY_FAILED, 10_000);
    assert.ok(performance.now() - paused < 10_000, "304 came late");
    const sent = performance.now();
    await jacky.request("/to michael hello?", Status.DELIVERY_FAILED);
    assert.ok(performance.now() - sent < 1_000, "304 to a dead node came late");
    await listBecomes(jacky, ["jacky"], 10_000 - (performance.now() - paused));

    // bob logs in elsewhere; michael does not.
    const bobOnC = await peers.joinWithin(
      c.address,
      "bob",
      10_000 - (performance.now() - paused),
    );
    await listBecomes(jacky, ["jacky", "bob"], 1_000);
    await jacky.request("/to bob found you", Status.DELIVERY_OK);
    await bobOnC.lb.expectLine("/from jacky found you");

    await delay(PAUSE_MS - (performance.now() - paused));
  } finally {
    b.process.kill("SIGCONT");
  }

  // Resumed: b closes its bob, whose name c holds, and keeps michael.
  await bob.la.expectClosed(5_000);
  await listBecomes(jacky, ["jacky", "bob", "michael"], 5_000);
  assert.equal(
    logLines(b, /bob is online on node c: closing the session here/),
    1,
    b.process.stderr,
  );
  assert.equal(logLines(b, /closing the session here/), 1, b.process.stderr);
  await jacky.request("/to michael welcome back", Status.DELIVERY_OK);
  await michael.lb.expectLine("/from jacky welcome back");
  const bobOnC = await peers.connect(c.address, "observer");
  await bobOnC.login("carol", "carol02");
  for (const watcher of [jacky, bobOnC, michael]) {
    assertOnce(await watcher.list(), watcher.name);
  }
});
