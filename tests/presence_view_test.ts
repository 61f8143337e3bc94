/**
 * `PresenceView`, a node's view of who is online in the whole cluster: each
 * user's node and login, in cluster-wide login order (the bucket revision of
 * the login), the users each node holds, and waiting for a revision.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Presence, PresenceView } from "../lib/cluster/presence.ts";
import { FakeBucket } from "./support/fake_presence.ts";
import { within } from "./support/server_parts.ts";

/** Every change the view told its listener of, as `name@node` or `-name`. */
function listen(view: PresenceView): string[] {
  const told: string[] = [];
  view.onChange = (name, presence) => {
    told.push(presence === undefined ? `-${name}` : `${name}@${presence.node}`);
  };
  return told;
}

Deno.test("presence view: users are listed in login order, whatever node each is on", () => {
  const view = new PresenceView();
  view.put("bob", "n2", "t1", 3);
  view.put("jacky", "n1", "t2", 5);
  view.put("michael", "n3", "t3", 8);
  assert.deepEqual([...view.names()], ["bob", "jacky", "michael"]);
  assert.equal(view.size, 3);
  assert.deepEqual(view.get("jacky"), {
    node: "n1",
    session: "t2",
    revision: 5,
  });
  assert.equal(view.get("alice"), undefined);
  assert.deepEqual(
    [...view.entries()].map(([name, at]) =>
      `${name}@${at.node}#${at.revision}`
    ),
    ["bob@n2#3", "jacky@n1#5", "michael@n3#8"],
  );
  assert.equal(view.revision, 8);
});

Deno.test("presence view: a user who leaves and logs in again goes to the end of the order", () => {
  const view = new PresenceView();
  view.put("bob", "n1", "t1", 1);
  view.put("jacky", "n1", "t2", 2);
  view.remove("bob", 3);
  view.put("bob", "n2", "t3", 4);
  assert.deepEqual([...view.names()], ["jacky", "bob"]);
  assert.deepEqual(view.get("bob"), { node: "n2", session: "t3", revision: 4 });
});

Deno.test("presence view: a key written again (a login claimed again) is a newer login, last in the order", () => {
  const view = new PresenceView();
  view.put("bob", "n1", "t1", 1);
  view.put("jacky", "n2", "t2", 2);
  view.put("bob", "n1", "t1", 3);
  assert.deepEqual([...view.names()], ["jacky", "bob"]);
  assert.equal(view.get("bob")?.revision, 3);
  assert.equal(view.size, 2);
  assert.deepEqual(view.nodes(), new Map([["n1", 1], ["n2", 1]]));
});

Deno.test("presence view: nodes() counts each node's users and drops a node with none left", () => {
  const view = new PresenceView();
  view.put("bob", "n1", "t1", 1);
  view.put("jacky", "n1", "t2", 2);
  view.put("michael", "n2", "t3", 3);
  assert.deepEqual(view.nodes(), new Map([["n1", 2], ["n2", 1]]));
  view.remove("michael", 4);
  assert.deepEqual(view.nodes(), new Map([["n1", 2]]));
  // bob's name taken over by n2: one user fewer on n1, one on n2.
  view.put("bob", "n2", "t4", 5);
  assert.deepEqual(view.nodes(), new Map([["n1", 1], ["n2", 1]]));
  view.remove("jacky", 6);
  view.remove("bob", 7);
  assert.deepEqual(view.nodes(), new Map());
  assert.equal(view.size, 0);
});

Deno.test("presence view: the listener hears each change once, after it is made", () => {
  const view = new PresenceView();
  const seen: [string, Presence | undefined, number][] = [];
  view.onChange = (name, presence) => {
    // The view already shows the change when its listener is told.
    assert.equal(view.get(name), presence);
    seen.push([name, presence, view.size]);
  };
  view.put("bob", "n1", "t1", 1);
  view.remove("bob", 2);
  assert.deepEqual(seen, [
    ["bob", { node: "n1", session: "t1", revision: 1 }, 1],
    ["bob", undefined, 0],
  ]);
});

Deno.test("presence view: removing a user it does not list tells no one, yet moves the revision on", () => {
  const view = new PresenceView();
  const told = listen(view);
  view.put("bob", "n1", "t1", 1);
  view.remove("jacky", 2);
  assert.deepEqual(told, ["bob@n1"]);
  assert.equal(view.revision, 2);
  assert.deepEqual([...view.names()], ["bob"]);
});

Deno.test("presence view: clear forgets every user and revision (the bucket was lost)", () => {
  const view = new PresenceView();
  view.put("bob", "n1", "t1", 1);
  view.put("jacky", "n2", "t2", 2);
  view.clear();
  assert.equal(view.size, 0);
  assert.equal(view.revision, 0);
  assert.deepEqual(view.nodes(), new Map());
  assert.equal(view.get("bob"), undefined);
  // A new bucket counts from 1 again.
  view.put("jacky", "n2", "t3", 1);
  assert.deepEqual([...view.names()], ["jacky"]);
  assert.equal(view.revision, 1);
});

Deno.test("presence view: waitFor resolves at once for a revision already seen", async () => {
  const view = new PresenceView();
  view.put("bob", "n1", "t1", 4);
  assert.equal(await within(view.waitFor(4, 60_000), "waitFor(4)"), true);
  assert.equal(await within(view.waitFor(2, 60_000), "waitFor(2)"), true);
});

Deno.test("presence view: waitFor resolves once a change at that revision or later arrives", async () => {
  const view = new PresenceView();
  let settled: boolean | undefined;
  const waiting = view.waitFor(3, 60_000).then((seen) => settled = seen);
  const laterWaiter = view.waitFor(9, 60_000);
  view.put("bob", "n1", "t1", 2);
  await Promise.resolve();
  assert.equal(settled, undefined, "resolved before revision 3 was seen");
  // A delete counts as a change too, and may skip past the revision awaited.
  view.remove("bob", 5);
  assert.equal(await within(waiting, "waitFor(3)"), true);
  view.put("jacky", "n1", "t2", 9);
  assert.equal(await within(laterWaiter, "waitFor(9)"), true);
});

Deno.test("presence view: waitFor resolves to false once its timeout has passed", async () => {
  const view = new PresenceView();
  view.put("bob", "n1", "t1", 1);
  const started = performance.now();
  assert.equal(await within(view.waitFor(2, 30), "waitFor(2)"), false);
  assert.ok(performance.now() - started >= 29);
  // A change arriving afterwards is harmless.
  view.put("jacky", "n1", "t2", 2);
  assert.equal(await view.waitFor(2, 30), true);
});

Deno.test("presence view: fed by a bucket watcher, every node's view lists the same users in the same order", () => {
  const bucket = new FakeBucket();
  const early = new PresenceView();
  const watchers = [bucket.watch(early, "manual")];
  bucket.claim("bob", "n2", "t1");
  bucket.claim("michael", "n3", "t2");
  bucket.claim("jacky", "n1", "t3");
  bucket.evict("michael");
  // A node that starts watching now gets the keys replayed in revision order.
  const late = new PresenceView();
  watchers.push(bucket.watch(late, "manual"));
  for (const watcher of watchers) watcher.flush();
  for (const view of [early, late]) {
    assert.deepEqual([...view.names()], ["bob", "jacky"]);
    assert.deepEqual(view.nodes(), new Map([["n2", 1], ["n1", 1]]));
    assert.equal(view.revision, 4);
  }
  for (const watcher of watchers) watcher.stop();
});
