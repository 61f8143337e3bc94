/**
 * `ClusterRegistry`, a node's online list over the shared presence bucket:
 * logins claimed by create-if-absent (exactly one of two racing claims
 * wins), logouts deleted at the login's revision (retried on resync when the
 * bucket cannot be reached), the names for `/list` in cluster-wide login
 * order, and a dead node's keys purged. How a node keeps the bucket right
 * about itself is in `cluster_registry_reconcile_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { FakeBucket, type Feed } from "./support/fake_presence.ts";
import { eventually, RegistryNode } from "./support/registry_rig.ts";

const FEEDS: Feed[] = ["early", "late", "manual"];

for (const feed of FEEDS) {
  Deno.test(`cluster registry (${feed} view): a claimed name is this node's in the bucket and listed on every node`, async () => {
    const bucket = new FakeBucket();
    const n1 = new RegistryNode(bucket, "n1", feed);
    const n2 = new RegistryNode(bucket, "n2", feed);
    const bob = await n1.login("bob");
    // Its own key reached the view before the login answered.
    assert.deepEqual(n1.registry.namesFor("bob"), ["bob"]);
    await n1.settle();
    await n2.settle();
    assert.equal(bucket.presence("bob")?.node, "n1");
    assert.equal(n1.registry.local("bob"), bob.inbox);
    assert.equal(n1.registry.size, 1);
    assert.equal(n2.registry.local("bob"), undefined);
    assert.equal(n2.registry.size, 0);
    assert.deepEqual(n2.registry.namesFor("jacky"), ["jacky", "bob"]);
    assert.deepEqual(n1.store.deletes, [], "its own key was deleted");
  });

  Deno.test(`cluster registry (${feed} view): of two nodes racing to claim a name, exactly one wins`, async () => {
    const bucket = new FakeBucket();
    const n1 = new RegistryNode(bucket, "n1", feed);
    const n2 = new RegistryNode(bucket, "n2", feed);
    const here = n1.user("bob");
    const there = n2.user("bob");
    // n2's claim goes first, then n1's, before either has an answer.
    const claims = [
      n2.registry.claim(there.inbox),
      n1.registry.claim(here.inbox),
    ];
    const [won2, won1] = await Promise.all([
      n2.run(claims[0]),
      n1.run(claims[1]),
    ]);
    assert.notEqual(won1, won2, "both or neither won");
    const [winner, loser] = won1 ? [n1, n2] : [n2, n1];
    await n1.settle();
    await n2.settle();
    assert.equal(bucket.presence("bob")?.node, winner.name);
    assert.deepEqual(winner.locals(), ["bob"]);
    assert.deepEqual(loser.locals(), []);
    for (const node of [n1, n2]) {
      assert.deepEqual([...node.view.names()], ["bob"]);
      assert.equal(node.view.get("bob")?.node, winner.name);
      assert.deepEqual(node.logged("session-taken"), []);
    }
    assert.deepEqual([...here.drops, ...there.drops], []);
  });
}

Deno.test("cluster registry: a name online on another node is refused, and stays there", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const n2 = new RegistryNode(bucket, "n2");
  const first = await n2.login("bob");
  const revision = bucket.presence("bob")?.revision;
  assert.equal(await n1.registry.claim(n1.user("bob").inbox), false);
  await n1.settle();
  assert.deepEqual(bucket.presence("bob")?.revision, revision);
  assert.equal(bucket.presence("bob")?.node, "n2");
  assert.deepEqual(n1.locals(), []);
  assert.deepEqual(first.drops, []);
});

Deno.test("cluster registry: a name already online on the same node is refused too", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const first = await n1.login("bob");
  assert.equal(await n1.registry.claim(n1.user("bob").inbox), false);
  await n1.settle();
  assert.equal(n1.registry.local("bob"), first.inbox);
  assert.ok(bucket.presence("bob") !== undefined);
});

Deno.test("cluster registry: a login waits until its own key shows in the view, so /list after 101 shows the user", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1", "manual");
  let answered = false;
  const claim = n1.registry.claim(n1.user("bob").inbox)
    .finally(() => answered = true);
  await n1.registry.settle();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(answered, false, "answered before the view had the key");
  n1.watcher.flush();
  assert.equal(await claim, true);
  assert.deepEqual(n1.registry.namesFor("bob"), ["bob"]);
});

Deno.test("cluster registry: a claim that cannot reach the bucket rejects, and nobody is listed", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  n1.store.createFault = "lost";
  await assert.rejects(n1.registry.claim(n1.user("bob").inbox));
  assert.deepEqual(n1.locals(), []);
  assert.equal(bucket.presence("bob"), undefined);
  // Once the bucket is back, the name is free.
  n1.store.createFault = undefined;
  await n1.login("bob");
});

Deno.test("cluster registry: a logout deletes the key at the login's revision, and every node stops listing the user", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const n2 = new RegistryNode(bucket, "n2");
  const bob = await n1.login("bob");
  await n2.login("jacky");
  const revision = bucket.presence("bob")?.revision;
  await bob.leave();
  assert.deepEqual(
    n1.store.deletes.map((call) => [call.name, call.arg, call.result]),
    [["bob", revision, true]],
  );
  assert.equal(bucket.presence("bob"), undefined);
  for (const node of [n1, n2]) {
    assert.deepEqual([...node.view.names()], ["jacky"], node.name);
  }
  assert.deepEqual(n1.locals(), []);
  // The name is free on any node.
  await n2.login("bob");
});

Deno.test("cluster registry: a logout of an inbox that is not the one listed deletes nothing", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const bob = await n1.login("bob");
  const refused = n1.user("bob");
  assert.equal(await n1.registry.claim(refused.inbox), false);
  await refused.leave();
  await n1.settle();
  assert.deepEqual(n1.store.deletes, []);
  assert.equal(n1.registry.local("bob"), bob.inbox);
  assert.equal(bucket.presence("bob")?.node, "n1");
});

Deno.test("cluster registry: a logout the bucket cannot take is retried on resync, at the same revision", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const n2 = new RegistryNode(bucket, "n2");
  const bob = await n1.login("bob");
  await n2.login("jacky");
  const revision = bucket.presence("bob")?.revision;
  n1.store.deleteFault = true;
  // The logout ends all the same: it never rejects.
  await bob.leave();
  assert.deepEqual(n1.locals(), []);
  assert.equal(bucket.presence("bob")?.revision, revision);
  n1.store.deleteFault = false;
  n1.registry.resync();
  await eventually(
    [n1, n2],
    () => bucket.presence("bob") === undefined,
    () => `bob still in the bucket: ${JSON.stringify(n1.store.calls)}`,
  );
  assert.ok(
    n1.store.deletes.every((call) => call.arg === revision),
    JSON.stringify(n1.store.deletes),
  );
  assert.deepEqual([...n2.view.names()], ["jacky"]);
  assert.equal(bucket.presence("jacky")?.node, "n2");
});

Deno.test("cluster registry: namesFor is the requester first, then everyone in cluster-wide login order, the same on every node", async () => {
  const bucket = new FakeBucket();
  const nodes = ["n1", "n2", "n3"].map((name) =>
    new RegistryNode(bucket, name, "late")
  );
  const [n1, n2, n3] = nodes;
  // The Appendix's order: bob, then michael, then jacky, each on another node.
  await n2.login("bob");
  await n3.login("michael");
  await n1.login("jacky");
  const alice = await n2.login("alice");
  await eventually(
    nodes,
    () => nodes.every((n) => n.view.size === 4),
    () => "",
  );
  for (const node of nodes) {
    assert.deepEqual(node.registry.namesFor("jacky"), [
      "jacky",
      "bob",
      "michael",
      "alice",
    ]);
    assert.deepEqual(node.registry.namesFor("michael"), [
      "michael",
      "bob",
      "jacky",
      "alice",
    ]);
  }
  await alice.leave();
  await n3.login("alice");
  await eventually(
    nodes,
    () => nodes.every((n) => n.view.size === 4),
    () => "",
  );
  for (const node of nodes) {
    assert.deepEqual(node.registry.namesFor("bob"), [
      "bob",
      "michael",
      "jacky",
      "alice",
    ]);
  }
});

Deno.test("cluster registry: namesFor puts a requester the view does not show yet first, once", () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1", "manual");
  bucket.claim("bob", "n2", "t1");
  n1.watcher.flush();
  assert.deepEqual(n1.registry.namesFor("jacky"), ["jacky", "bob"]);
  assert.deepEqual(n1.registry.namesFor("bob"), ["bob"]);
});

Deno.test("cluster registry: purgeNode deletes that node's keys, at their revisions, and no one else's", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const n3 = new RegistryNode(bucket, "n3");
  await n1.login("jacky");
  // n2 logged bob and alice in, then died.
  bucket.claim("bob", "n2", "t1");
  await n3.login("michael");
  bucket.claim("alice", "n2", "t2");
  const revisions = new Map(
    ["bob", "alice"].map((name) => [name, bucket.presence(name)?.revision]),
  );
  await n1.settle();
  n1.registry.purgeNode("n2");
  await eventually([n1, n3], () => bucket.names().length === 2, () => "");
  assert.deepEqual(bucket.names(), ["jacky", "michael"]);
  assert.deepEqual(n3.store.deletes, []);
  assert.deepEqual(
    n1.store.deletes.map((call) => [call.name, call.arg]),
    [["bob", revisions.get("bob")], ["alice", revisions.get("alice")]],
  );
  for (const node of [n1, n3]) {
    assert.deepEqual(node.registry.namesFor("jacky"), ["jacky", "michael"]);
  }
});

Deno.test("cluster registry: purgeNode never deletes a login newer than the one its view shows", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1", "manual");
  const n2 = new RegistryNode(bucket, "n2");
  const bob = await n2.login("bob");
  n1.watcher.flush();
  const seen = n1.view.get("bob")?.revision;
  // bob logs out and in again on n2; n1 has not heard of it yet.
  await bob.leave();
  await n2.login("bob");
  const current = bucket.presence("bob")?.revision;
  assert.notEqual(current, seen);
  n1.registry.purgeNode("n2");
  await n1.registry.settle();
  assert.deepEqual(
    n1.store.deletes.map((call) => [call.name, call.arg, call.result]),
    [["bob", seen, false]],
  );
  assert.equal(bucket.presence("bob")?.revision, current);
  assert.deepEqual(n2.locals(), ["bob"]);
});

Deno.test("cluster registry: a purge the bucket cannot take fails quietly and can be made again", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  bucket.claim("bob", "n2", "t1");
  await n1.settle();
  n1.store.deleteFault = true;
  n1.registry.purgeNode("n2");
  await n1.settle();
  assert.deepEqual(n1.store.deletes.map((call) => call.result), ["rejected"]);
  assert.equal(bucket.presence("bob")?.node, "n2");
  n1.store.deleteFault = false;
  n1.registry.purgeNode("n2");
  await n1.settle();
  assert.equal(bucket.presence("bob"), undefined);
  assert.deepEqual(n1.registry.namesFor("jacky"), ["jacky"]);
});
