/**
 * `ClusterDelivery.answer`, the receiver's node's side of a request: it runs
 * the exchange under the receiver's lock, so there is one exchange at a time
 * per receiver cluster-wide, and it starts none after its start-by time (one
 * reply timeout after the request came), because by then the sender may have
 * given up: a line sent later would be delivered while the sender is told it
 * failed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { delay } from "../lib/async/delay.ts";
import { Network } from "./support/delivery_rig.ts";
import { pollUntil } from "./support/faults.ts";
import { within } from "./support/server_parts.ts";

const SHORT_REPLY_MS = 100;

/** jacky on n1, bob on n2, michael on n3; receivers get `replyTimeoutMs`. */
async function appendix(replyTimeoutMs: number): Promise<Network> {
  const net = new Network(replyTimeoutMs);
  await net.online("n2", "bob");
  await net.online("n3", "michael");
  await net.online("n1", "jacky");
  return net;
}

Deno.test("cluster delivery answer: a ping is answered", async () => {
  using net = await appendix(SHORT_REPLY_MS);
  assert.equal(await net.node("n2").delivery.answer("ping", ""), "1");
});

Deno.test("cluster delivery answer: a request whose receiver's turn comes after the start-by time sends nothing and fails", async () => {
  using net = await appendix(SHORT_REPLY_MS);
  const bob = net.user("bob");
  // Another exchange holds bob's Lb for longer than a reply timeout.
  const held = await bob.inbox.lock.acquire();
  const started = performance.now();
  const sent = net.node("n1").delivery.sendTo("jacky", "bob", "Hi");
  await pollUntil(() => net.crossings.length === 1, () => "no request");
  // Time itself is the condition: the start-by time passes.
  await delay(SHORT_REPLY_MS + 30 - (performance.now() - started));
  held[Symbol.dispose]();
  assert.equal(await within(sent, "/to bob"), false);
  assert.deepEqual(bob.lb.sent, []);
  // Waiting too long is no fault of bob's: he stays.
  assert.deepEqual(bob.owner.drops, []);
  assert.match(net.node("n2").failures().join("\n"), /^bob: /);
  // The sender heard well before its own request would have timed out.
  assert.ok(performance.now() - started < net.crossings[0].timeoutMs);
});

Deno.test("cluster delivery answer: a request whose receiver's turn comes in time is delivered", async () => {
  using net = await appendix(5_000);
  const bob = net.user("bob");
  const held = await bob.inbox.lock.acquire();
  const sent = net.node("n1").delivery.sendTo("jacky", "bob", "Hi");
  await pollUntil(() => net.crossings.length === 1, () => "no request");
  held[Symbol.dispose]();
  assert.equal(await within(sent, "/to bob"), true);
  assert.deepEqual(bob.lb.sent, ["/from jacky Hi"]);
});

Deno.test("cluster delivery answer: a /toall part waits no longer than the start-by time for each receiver", async () => {
  using net = await appendix(SHORT_REPLY_MS);
  await net.online("n2", "alice");
  const bob = net.user("bob");
  const held = await bob.inbox.lock.acquire();
  const started = performance.now();
  const sent = net.node("n1").delivery.sendToAll("jacky", "OK.");
  await pollUntil(() => net.crossings.length === 2, () => "no requests");
  await delay(SHORT_REPLY_MS + 30 - (performance.now() - started));
  held[Symbol.dispose]();
  assert.equal(await within(sent, "/toall"), false);
  assert.deepEqual(net.received(), {
    bob: [],
    michael: ["/broadcastfrom jacky OK."],
    jacky: [],
    alice: ["/broadcastfrom jacky OK."],
  });
});

Deno.test("cluster delivery answer: a remote receiver who does not answer in time is dropped on its node, and the sender hears before its own timeout", async () => {
  using net = await appendix(SHORT_REPLY_MS);
  const bob = net.user("bob");
  bob.lb.answer = undefined;
  const started = performance.now();
  const sent = net.node("n1").delivery.sendTo("jacky", "bob", "Hi");
  assert.equal(await within(sent, "/to bob"), false);
  assert.ok(performance.now() - started < net.crossings[0].timeoutMs);
  assert.deepEqual(bob.lb.sent, ["/from jacky Hi"]);
  assert.equal(bob.owner.drops.length, 1);
});

Deno.test("cluster delivery answer: a receiver who left its node before the request came is a failure, at once", async () => {
  using net = await appendix(SHORT_REPLY_MS);
  const bob = net.user("bob");
  // The other nodes' views still show bob on n2.
  await net.node("n2").registry.release(bob.inbox);
  assert.equal(
    await net.node("n1").delivery.sendTo("jacky", "bob", "Hi"),
    false,
  );
  assert.deepEqual(bob.lb.sent, []);
  assert.equal(net.crossings.length, 1);
});

Deno.test("cluster delivery answer: senders on two other nodes and on the receiver's own take turns on its Lb", async () => {
  using net = await appendix(5_000);
  const bob = net.user("bob");
  await net.online("n3", "alice");
  await net.online("n2", "mary");
  const held = await bob.inbox.lock.acquire();
  const sends = [
    net.node("n1").delivery.sendTo("jacky", "bob", "first"),
    net.node("n3").delivery.sendTo("alice", "bob", "second"),
    net.node("n2").delivery.sendTo("mary", "bob", "third"),
  ];
  await pollUntil(() => net.crossings.length === 2, () => "no requests");
  assert.deepEqual(bob.lb.sent, [], "a line went out while the Lb was busy");
  held[Symbol.dispose]();
  assert.deepEqual(await within(Promise.all(sends), "every /to"), [
    true,
    true,
    true,
  ]);
  assert.deepEqual(bob.lb.sent.sort(), [
    "/from alice second",
    "/from jacky first",
    "/from mary third",
  ]);
});
