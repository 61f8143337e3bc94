/**
 * `ClusterDelivery`: `/to` a user on this node is a local exchange, on
 * another node one request to that node, which runs the exchange under the
 * receiver's lock; `/toall` is the local fan-out and one request per other
 * node with users. Nothing is sent twice; a request to a node taken for dead
 * fails at once, and one waiting on a node fails as soon as the node is
 * taken for dead or a probe finds it gone.
 *
 * Requests cross a fake network (`support/delivery_rig.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { NodeGoneError } from "../lib/cluster/cluster_delivery.ts";
import { Network } from "./support/delivery_rig.ts";
import { pollUntil } from "./support/faults.ts";
import { within } from "./support/server_parts.ts";

const REPLY_TIMEOUT_MS = 10_000;

/** A network of n1, n2, n3, with jacky on n1, bob on n2, michael on n3. */
async function appendix(replyTimeoutMs = REPLY_TIMEOUT_MS): Promise<Network> {
  const net = new Network(replyTimeoutMs);
  await net.online("n2", "bob");
  await net.online("n3", "michael");
  await net.online("n1", "jacky");
  return net;
}

Deno.test("cluster delivery /to: a receiver on the same node gets the line there, and nothing crosses", async () => {
  using net = await appendix();
  await net.online("n1", "alice");
  assert.equal(
    await net.node("n1").delivery.sendTo("jacky", "alice", "Hi"),
    true,
  );
  assert.deepEqual(net.user("alice").lb.sent, ["/from jacky Hi"]);
  assert.deepEqual(net.crossings, []);
});

Deno.test("cluster delivery /to: a receiver on another node gets the line once, through one request to that node", async () => {
  using net = await appendix();
  const sent = net.node("n1").delivery.sendTo(
    "jacky",
    "bob",
    "Hello! Nice to meet you!",
  );
  assert.equal(await within(sent, "/to bob"), true);
  assert.deepEqual(net.received(), {
    bob: ["/from jacky Hello! Nice to meet you!"],
    michael: [],
    jacky: [],
  });
  assert.deepEqual(
    net.crossings.map(({ from, to, verb }) => `${from}->${to} ${verb}`),
    ["n1->n2 to"],
  );
  // The sender waits longer than the receiver's node may take: a reply
  // timeout for the receiver's turn, and one for its receipt.
  assert.ok(net.crossings[0].timeoutMs > 2 * REPLY_TIMEOUT_MS);
  assert.deepEqual(net.node("n1").failures(), []);
});

Deno.test("cluster delivery /to: content crosses byte for byte, spaces and all", async () => {
  using net = await appendix();
  const content = '  a  b {"s":1} \\ é 😀 \r ';
  assert.equal(
    await net.node("n1").delivery.sendTo("jacky", "bob", content),
    true,
  );
  assert.deepEqual(net.user("bob").lb.sent, [`/from jacky ${content}`]);
});

Deno.test("cluster delivery /to: a remote receiver who answers no 302 makes it false, sent once", async () => {
  using net = await appendix();
  net.user("bob").lb.answer = "hello?";
  assert.equal(
    await net.node("n1").delivery.sendTo("jacky", "bob", "Hi"),
    false,
  );
  assert.deepEqual(net.user("bob").lb.sent, ["/from jacky Hi"]);
  assert.equal(net.crossings.length, 1);
  assert.equal(net.node("n1").failures().length, 1);
});

Deno.test("cluster delivery /to: a user online nowhere is false at once, and nothing crosses", async () => {
  using net = await appendix();
  assert.equal(
    await net.node("n1").delivery.sendTo("jacky", "alice", "Hi"),
    false,
  );
  assert.deepEqual(net.crossings, []);
});

Deno.test("cluster delivery /to: a user on a node taken for dead is false at once, and nothing crosses", async () => {
  using net = await appendix();
  net.node("n1").dead.add("n2");
  assert.equal(
    await net.node("n1").delivery.sendTo("jacky", "bob", "Hi"),
    false,
  );
  assert.deepEqual(net.crossings, []);
  assert.deepEqual(net.received().bob, []);
  assert.equal(net.node("n1").failures().length, 1);
  assert.match(net.node("n1").failures()[0], /^bob: .*n2/);
});

for (const state of ["gone", "faulty"] as const) {
  Deno.test(`cluster delivery /to: a request that fails (${state}) is false, and never sent again`, async () => {
    using net = await appendix();
    net.set("n2", state);
    const sent = net.node("n1").delivery.sendTo("jacky", "bob", "Hi");
    assert.equal(await within(sent, "/to bob"), false);
    assert.equal(net.crossings.length, 1);
    assert.deepEqual(net.received().bob, []);
    assert.equal(net.node("n1").failures().length, 1);
    assert.deepEqual([...net.node("n1").delivery.waitingOn()], []);
  });
}

Deno.test("cluster delivery /to: a request waiting on a node fails at once when the node is taken for dead; a late answer changes nothing", async () => {
  using net = await appendix();
  net.set("n2", "slow");
  const n1 = net.node("n1");
  const sent = n1.delivery.sendTo("jacky", "bob", "Hi");
  await pollUntil(() => net.crossings.length === 1, () => "no request");
  assert.deepEqual([...n1.delivery.waitingOn()], ["n2"]);
  n1.delivery.nodeDead("n2");
  assert.equal(await within(sent, "/to bob", 100), false);
  assert.deepEqual([...n1.delivery.waitingOn()], []);
  // n2 was only slow: it delivers after all, but the sender has its answer.
  net.set("n2", "up");
  net.release();
  await pollUntil(
    () => net.received().bob.length === 1,
    () => "bob got nothing",
  );
  assert.equal(n1.failures().length, 1);
  assert.equal(net.crossings.length, 1);
});

Deno.test("cluster delivery /to: a paused node's request fails when the node is taken for dead", async () => {
  using net = await appendix();
  net.set("n2", "paused");
  const n1 = net.node("n1");
  const sent = n1.delivery.sendTo("jacky", "bob", "Hi");
  // Probes time out on a paused node, which proves nothing: still waiting.
  await pollUntil(() => (net.pings.get("n2") ?? 0) >= 1, () => "no probe");
  assert.deepEqual([...n1.delivery.waitingOn()], ["n2"]);
  n1.dead.add("n2");
  n1.delivery.nodeDead("n2");
  assert.equal(await within(sent, "/to bob", 100), false);
  // And what is sent to it from now on fails without crossing.
  assert.equal(await n1.delivery.sendTo("jacky", "bob", "again"), false);
  assert.equal(net.crossings.length, 1);
});

Deno.test("cluster delivery /to: a request waiting on a node that dies fails within 1 s, once a probe finds it gone", async () => {
  using net = await appendix();
  net.set("n2", "slow");
  const n1 = net.node("n1");
  const sent = n1.delivery.sendTo("jacky", "bob", "Hi");
  await pollUntil(() => net.crossings.length === 1, () => "no request");
  net.set("n2", "gone"); // killed: nobody answers for it any more
  const killed = performance.now();
  assert.equal(await within(sent, "/to bob", 1_000), false);
  assert.ok(performance.now() - killed < 1_000);
  assert.deepEqual([...n1.delivery.waitingOn()], []);
  assert.match(n1.failures().join("\n"), /n2/);
  net.release();
  assert.deepEqual(net.received().bob, []);
});

Deno.test("cluster delivery /to: a probe that finds the node there leaves the request waiting for its answer", async () => {
  using net = await appendix();
  net.set("n2", "slow");
  const n1 = net.node("n1");
  let answered: boolean | undefined;
  const sent = n1.delivery.sendTo("jacky", "bob", "Hi").then((ok) =>
    answered = ok
  );
  await pollUntil(() => (net.pongs.get("n2") ?? 0) >= 1, () => "no probe");
  assert.equal(answered, undefined);
  net.set("n2", "up");
  net.release();
  assert.equal(await within(sent, "/to bob"), true);
  assert.deepEqual(net.received().bob, ["/from jacky Hi"]);
  assert.deepEqual([...n1.delivery.waitingOn()], []);
  // No request waits: probing stops (a timer left running fails the test).
});

Deno.test("cluster delivery /toall: every other user gets the line once: locally, and through one request per other node with users", async () => {
  using net = await appendix();
  await net.online("n1", "alice");
  await net.online("n3", "mary");
  net.node("n4"); // a node with nobody online
  const sent = net.node("n1").delivery.sendToAll(
    "jacky",
    "How about meeting at 3pm today?",
  );
  assert.equal(await within(sent, "/toall"), true);
  const line = "/broadcastfrom jacky How about meeting at 3pm today?";
  assert.deepEqual(net.received(), {
    bob: [line],
    michael: [line],
    jacky: [],
    alice: [line],
    mary: [line],
  });
  assert.deepEqual(
    net.crossings.map(({ to, verb }) => `${to} ${verb}`).sort(),
    ["n2 toall", "n3 toall"],
  );
});

Deno.test("cluster delivery /toall: with nobody else online anywhere it is true, and nothing crosses", async () => {
  using net = new Network();
  await net.online("n1", "jacky");
  net.node("n2");
  assert.equal(
    await net.node("n1").delivery.sendToAll("jacky", "anyone?"),
    true,
  );
  assert.deepEqual(net.crossings, []);
});

Deno.test("cluster delivery /toall: one user on another node not answering 302 makes it false; the rest still get it once", async () => {
  using net = await appendix();
  await net.online("n3", "mary");
  net.user("mary").lb.answer = "no";
  assert.equal(await net.node("n1").delivery.sendToAll("jacky", "OK."), false);
  for (const name of ["bob", "michael", "mary"]) {
    assert.deepEqual(net.received()[name], ["/broadcastfrom jacky OK."], name);
  }
  assert.equal(net.crossings.length, 2);
});

Deno.test("cluster delivery /toall: a node taken for dead fails its part at once; the others still get it", async () => {
  using net = await appendix();
  net.node("n1").dead.add("n3");
  assert.equal(await net.node("n1").delivery.sendToAll("jacky", "OK."), false);
  assert.deepEqual(net.received().bob, ["/broadcastfrom jacky OK."]);
  assert.deepEqual(net.received().michael, []);
  assert.deepEqual(net.crossingsTo("n3"), []);
});

Deno.test("cluster delivery: many /to and /toall at once across three nodes deliver each line exactly once", async () => {
  using net = await appendix();
  const [n1, n2, n3] = ["n1", "n2", "n3"].map((name) => net.node(name));
  const results = await within(
    Promise.all([
      n1.delivery.sendTo("jacky", "bob", "1"),
      n3.delivery.sendTo("michael", "bob", "2"),
      n2.delivery.sendToAll("bob", "3"),
      n1.delivery.sendToAll("jacky", "4"),
      n2.delivery.sendTo("bob", "jacky", "5"),
    ]),
    "every delivery",
  );
  assert.deepEqual(results, [true, true, true, true, true]);
  const received = net.received();
  assert.deepEqual(received.bob.sort(), [
    "/broadcastfrom jacky 4",
    "/from jacky 1",
    "/from michael 2",
  ]);
  assert.deepEqual(received.jacky.sort(), [
    "/broadcastfrom bob 3",
    "/from bob 5",
  ]);
  assert.deepEqual(received.michael.sort(), [
    "/broadcastfrom bob 3",
    "/broadcastfrom jacky 4",
  ]);
});

Deno.test("cluster delivery: close fails what waits on other nodes at once", async () => {
  using net = await appendix();
  net.set("n2", "paused");
  const n1 = net.node("n1");
  const sent = n1.delivery.sendTo("jacky", "bob", "Hi");
  await pollUntil(() => net.crossings.length === 1, () => "no request");
  n1.delivery.close();
  assert.equal(await within(sent, "/to bob", 100), false);
  assert.deepEqual([...n1.delivery.waitingOn()], []);
});

Deno.test("cluster delivery: NodeGoneError names the node", () => {
  const error = new NodeGoneError("n7");
  assert.ok(error instanceof Error);
  assert.equal(error.name, "NodeGoneError");
  assert.match(error.message, /n7/);
});
