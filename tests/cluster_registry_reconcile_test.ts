/**
 * How a `ClusterRegistry` keeps the presence bucket right about its own
 * node, whatever the bucket's watcher shows it:
 * - a local user's key deleted by another node (which took this one for
 *   dead) is claimed again with the same login, and the user stays;
 * - a local user whose name another node holds by then is dropped, with one
 *   `session-taken` event, and the other node's key is left alone;
 * - a key naming this node for a login it does not hold (a create whose
 *   outcome was unknown, a previous run under the same node name) is
 *   deleted;
 * - after the bucket was lost, every local user is claimed again.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClusterRegistry } from "../lib/cluster/cluster_registry.ts";
import { PresenceView } from "../lib/cluster/presence.ts";
import { FakeBucket, type Feed } from "./support/fake_presence.ts";
import { eventually, RegistryNode } from "./support/registry_rig.ts";
import { recordingLog } from "./support/server_parts.ts";

for (const feed of ["early", "late"] as Feed[]) {
  Deno.test(`cluster registry (${feed} view): a local user whose key another node deleted is claimed again with the same login, and stays`, async () => {
    const bucket = new FakeBucket();
    const n1 = new RegistryNode(bucket, "n1", feed);
    const n2 = new RegistryNode(bucket, "n2", feed);
    const bob = await n1.login("bob");
    await n2.settle();
    const before = bucket.presence("bob")!;
    // n2 took n1 for dead.
    n2.registry.purgeNode("n1");
    await eventually(
      [n1, n2],
      () => (bucket.presence("bob")?.revision ?? 0) > before.revision,
      () => `bob's key: ${JSON.stringify(bucket.presence("bob"))}`,
    );
    assert.deepEqual(bucket.presence("bob")?.node, "n1");
    assert.deepEqual(bucket.presence("bob")?.session, before.session);
    assert.equal(n1.registry.local("bob"), bob.inbox);
    assert.deepEqual(bob.drops, []);
    assert.deepEqual(n1.logged("session-taken"), []);
    for (const node of [n1, n2]) {
      assert.deepEqual(node.registry.namesFor("jacky"), ["jacky", "bob"]);
    }
    // Its logout deletes the key at the revision of the claim made again.
    await bob.leave();
    await eventually(
      [n1, n2],
      () => bucket.presence("bob") === undefined,
      () => `bob still in the bucket: ${JSON.stringify(n1.store.calls)}`,
    );
    assert.equal(n2.view.size, 0);
  });
}

Deno.test("cluster registry: a local user whose name another node took meanwhile is dropped once; the other users stay", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1", "manual");
  const n2 = new RegistryNode(bucket, "n2");
  const bob = await n1.login("bob");
  const jacky = await n1.login("jacky");
  const jackySession = bucket.presence("jacky")?.session;
  await n2.settle();
  // n1 is paused: n2 takes it for dead, and bob logs in on n2.
  n2.registry.purgeNode("n1");
  await n2.settle();
  const bobThere = await n2.login("bob");
  const taken = bucket.presence("bob")!;
  // n1 resumes and hears of it all.
  await eventually(
    [n1, n2],
    () => bucket.presence("jacky")?.node === "n1",
    () => `jacky's key: ${JSON.stringify(bucket.presence("jacky"))}`,
  );
  assert.equal(bob.drops.length, 1, `bob dropped ${bob.drops.length} times`);
  assert.match(bob.drops[0], /n2/);
  const events = n1.logged("session-taken");
  assert.equal(events.length, 1, JSON.stringify(events));
  assert.equal(events[0].user, "bob");
  assert.match(events[0].message, /n2/);
  // n2's login is untouched, also by the dropped session's logout.
  assert.deepEqual(bucket.presence("bob"), taken);
  assert.deepEqual(bobThere.drops, []);
  assert.deepEqual(n1.locals(), ["jacky"]);
  assert.deepEqual(n2.locals(), ["bob"]);
  assert.equal(bucket.presence("jacky")?.session, jackySession);
  assert.deepEqual(jacky.drops, []);
  for (const node of [n1, n2]) {
    assert.deepEqual(node.registry.namesFor("alice"), [
      "alice",
      "bob",
      "jacky",
    ]);
  }
  // bob moving on n2 later is no news to n1: no second event.
  await bobThere.leave();
  await n2.login("bob");
  await eventually([n1, n2], () => n1.view.get("bob") !== undefined, () => "");
  assert.equal(n1.logged("session-taken").length, 1);
  assert.equal(bob.drops.length, 1);
});

Deno.test("cluster registry: a watch resumed after an outage that shows the name on another node drops the local session once", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const n2 = new RegistryNode(bucket, "n2");
  const bob = await n1.login("bob");
  await n1.login("jacky");
  await n2.settle();
  n1.watcher.stop(); // n1's link is down
  const seen = n1.view.revision;
  n2.registry.purgeNode("n1");
  await n2.settle();
  await n2.login("bob");
  const taken = bucket.presence("bob")!;
  // Back: the resumed watch shows bob on n2, and no delete before it.
  n1.rewatch(seen + 1);
  n1.registry.resync();
  await eventually(
    [n1, n2],
    () => bucket.presence("jacky")?.node === "n1",
    () => `jacky's key: ${JSON.stringify(bucket.presence("jacky"))}`,
  );
  assert.equal(bob.drops.length, 1);
  assert.equal(n1.logged("session-taken").length, 1);
  assert.deepEqual(bucket.presence("bob"), taken);
  assert.deepEqual(n1.locals(), ["jacky"]);
});

Deno.test("cluster registry: keys a previous run under the same node name left are deleted when the node starts", async () => {
  const bucket = new FakeBucket();
  bucket.claim("bob", "n1", "old-run");
  bucket.claim("jacky", "n2", "t1");
  bucket.claim("michael", "n1", "old-run-2");
  // The view is filled before the registry is made, then the node resyncs.
  const view = new PresenceView();
  const watcher = bucket.watch(view, "manual");
  watcher.flush();
  const store = bucket.store();
  const registry = new ClusterRegistry({
    node: "n1",
    store,
    view,
    log: recordingLog().log,
  });
  registry.resync();
  await registry.settle();
  watcher.flush();
  assert.deepEqual(bucket.names(), ["jacky"]);
  assert.deepEqual(
    store.deletes.map((call) => [call.name, call.arg]).sort(),
    [["bob", 1], ["michael", 3]],
  );
  assert.deepEqual(registry.namesFor("jacky"), ["jacky"]);
  watcher.stop();
});

Deno.test("cluster registry: a key naming this node that arrives through the watch, for a login it does not hold, is deleted", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  const n2 = new RegistryNode(bucket, "n2");
  await n1.login("jacky");
  bucket.claim("bob", "n1", "not-ours");
  await eventually(
    [n1, n2],
    () => bucket.presence("bob") === undefined,
    () => `bob's key: ${JSON.stringify(bucket.presence("bob"))}`,
  );
  assert.equal(bucket.presence("jacky")?.node, "n1");
  await n2.login("bob");
});

for (const feed of ["late", "manual"] as Feed[]) {
  Deno.test(`cluster registry (${feed} view): a login whose create failed yet was stored is deleted once its key shows up`, async () => {
    const bucket = new FakeBucket();
    const n1 = new RegistryNode(bucket, "n1", feed);
    const n2 = new RegistryNode(bucket, "n2", feed);
    n1.store.createFault = "unknown";
    await assert.rejects(n1.registry.claim(n1.user("bob").inbox));
    assert.deepEqual(n1.locals(), []);
    // The key was stored all the same; the watch shows it after the failure.
    n1.store.createFault = undefined;
    const stored = bucket.presence("bob")!;
    assert.equal(stored.node, "n1");
    await eventually(
      [n1, n2],
      () => bucket.presence("bob") === undefined,
      () => `bob's key: ${JSON.stringify(bucket.presence("bob"))}`,
    );
    assert.deepEqual(
      n1.store.deletes.map((call) => [call.name, call.arg]),
      [["bob", stored.revision]],
    );
    // The name is free again, on any node.
    await n2.login("bob");
  });
}

Deno.test("cluster registry: a login whose create failed yet was stored, its key seen before the failure, is deleted", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1");
  n1.store.createFault = "unknown";
  n1.store.hold();
  const claim = n1.registry.claim(n1.user("bob").inbox);
  claim.catch(() => {});
  // The watch shows the key while the create still waits for its answer.
  await eventually([], () => n1.view.get("bob") !== undefined, () => "");
  n1.store.release();
  n1.store.createFault = undefined;
  await assert.rejects(claim);
  assert.deepEqual(n1.locals(), []);
  await eventually(
    [n1],
    () => bucket.presence("bob") === undefined,
    () =>
      `bob's key, naming n1 for a login n1 does not hold, is still there: ${
        JSON.stringify(bucket.presence("bob"))
      }; nobody can log in as bob`,
    500,
  );
});

for (const takenBy of [undefined, "n3"]) {
  const meanwhile = takenBy === undefined
    ? "deleted"
    : `deleted and claimed on ${takenBy}`;
  Deno.test(`cluster registry: a login whose key was ${meanwhile} before its create answered is not left online without the name`, async () => {
    const bucket = new FakeBucket();
    const n1 = new RegistryNode(bucket, "n1");
    const n2 = new RegistryNode(bucket, "n2");
    n1.store.hold();
    const bob = n1.user("bob");
    const claim = n1.registry.claim(bob.inbox);
    await eventually([n2], () => n2.view.get("bob") !== undefined, () => "");
    // n1 is paused with its create's answer unread: n2 takes it for dead,
    // and bob may log in elsewhere.
    n2.registry.purgeNode("n1");
    await eventually(
      [n2],
      () => bucket.presence("bob") === undefined,
      () => "",
    );
    if (takenBy !== undefined) bucket.claim("bob", takenBy, "t3");
    // n1 resumes: its view hears of it all before the create's answer.
    await eventually([n1], () => n1.view.get("bob")?.node !== "n1", () => "");
    n1.store.release();
    const won = await claim;
    // Refused, or online with the name held, or dropped at once: never
    // online here without the name.
    await eventually(
      [n1, n2],
      () =>
        !won || n1.registry.local("bob") === undefined ||
        bucket.presence("bob")?.node === "n1",
      () =>
        `bob is online on n1 (claim answered ${won}, dropped ${bob.drops.length} times) while the bucket holds ${
          JSON.stringify(bucket.presence("bob"))
        }: ${
          takenBy === undefined
            ? "/list on other nodes misses him, /to from them gets 304, and he can log in again elsewhere"
            : `he is online on n1 and on ${takenBy} at once`
        }`,
      500,
    );
  });
}

Deno.test("cluster registry: a user who leaves while the name is being claimed again is left with no key", async () => {
  const bucket = new FakeBucket();
  const n1 = new RegistryNode(bucket, "n1", "manual");
  const n2 = new RegistryNode(bucket, "n2");
  const bob = await n1.login("bob");
  await n2.settle();
  n2.registry.purgeNode("n1");
  await n2.settle();
  n1.store.hold();
  n1.watcher.flush(); // the delete: n1 claims bob again
  const leaving = bob.leave();
  n1.store.release();
  await leaving;
  await eventually(
    [n1, n2],
    () => bucket.presence("bob") === undefined && n2.view.size === 0,
    () => `bob's key: ${JSON.stringify(bucket.presence("bob"))}`,
  );
  assert.deepEqual(n1.locals(), []);
});

Deno.test("cluster registry: after the bucket was lost, every node claims its users again with the same logins", async () => {
  const bucket = new FakeBucket();
  const nodes = ["n1", "n2"].map((name) => new RegistryNode(bucket, name));
  const [n1, n2] = nodes;
  const users = [
    await n1.login("bob"),
    await n2.login("michael"),
    await n1.login("jacky"),
  ];
  const sessions = new Map(
    ["bob", "michael", "jacky"].map((name) => [name, bucket.presence(name)]),
  );
  // NATS restarted without its store: a new, empty bucket.
  bucket.lose();
  for (const node of nodes) {
    node.view.clear();
    node.registry.resync();
  }
  await eventually(
    nodes,
    () => bucket.names().length === 3,
    () => `bucket holds ${bucket.names()}`,
  );
  for (const [name, was] of sessions) {
    assert.equal(bucket.presence(name)?.node, was?.node, name);
    assert.equal(bucket.presence(name)?.session, was?.session, name);
  }
  for (const user of users) assert.deepEqual(user.drops, []);
  const order = n1.registry.namesFor("alice");
  assert.deepEqual(order.slice(1).sort(), ["bob", "jacky", "michael"]);
  assert.deepEqual(n2.registry.namesFor("alice"), order);
  assert.deepEqual(n1.locals(), ["bob", "jacky"]);
  assert.deepEqual(n2.locals(), ["michael"]);
});
