/**
 * The per-receiver lock (handout III.1, issue decision 5): each user's Lb
 * carries one exchange at a time, so a second sender's message never reaches
 * a receiver before the receiver's reply to the first.
 */

import assert from "node:assert/strict";
import {
  expectNothingMoreOnLb,
  IS_EXTERNAL,
  REPLY_TIMEOUT_MS,
  type Target,
  untilLockWaiters,
  withTarget,
} from "./support/target.ts";
import { Status, type WirePeer } from "./support/wire_peer.ts";

/**
 * How long senders are given to reach the receiver's lock on an external
 * server, whose state cannot be seen; in-process, the test waits until they
 * are queued on it.
 */
const HOLD_MS = 250;

/**
 * Reads `count` lines on `receiver`'s Lb, one at a time: after each, waits
 * until the senders still to come are queued on the receiver's lock, checks
 * that none of their lines has come meanwhile, and replies `302`. Returns
 * the lines in the order they came.
 */
async function receiveOneAtATime(
  target: Target,
  receiver: WirePeer,
  count: number,
): Promise<string[]> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(await receiver.lb.expectLine());
    await untilLockWaiters(target, count - 1 - i, HOLD_MS);
    assert.equal(receiver.lb.pending, 0, "two exchanges at once on Lb");
    await receiver.lb.send(Status.RECEIPT_OK);
  }
  return lines;
}

Deno.test("lock: two senders /to one receiver; the second /from waits for the reply to the first", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const jacky = await target.join("jacky");
    const michael = await target.join("michael");
    await Promise.all([
      jacky.send("/to bob from jacky"),
      michael.send("/to bob from michael"),
    ]);
    const lines = await receiveOneAtATime(target, bob, 2);
    assert.deepEqual(lines.toSorted(), [
      "/from jacky from jacky",
      "/from michael from michael",
    ]);
    await jacky.expectLine(Status.DELIVERY_OK);
    await michael.expectLine(Status.DELIVERY_OK);
    await expectNothingMoreOnLb(bob, jacky);
    await expectNothingMoreOnLb(bob, michael);
  });
});

Deno.test("lock: the first sender gets 303 once the receiver replied, while the second still waits", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const jacky = await target.join("jacky");
    const michael = await target.join("michael");
    await jacky.send("/to bob first");
    await bob.lb.expectLine("/from jacky first");
    await michael.send("/to bob second");
    await untilLockWaiters(target, 1, HOLD_MS);
    assert.equal(bob.lb.pending, 0, "michael's line came before bob's 302");
    assert.equal(michael.la.pending, 0, "michael answered before bob's 302");
    await bob.lb.send(Status.RECEIPT_OK);
    await jacky.expectLine(Status.DELIVERY_OK);
    await bob.lb.expectLine("/from michael second");
    // No 303 before bob's reply: the exchange is open, and stays so.
    if (target.server) assert.equal(target.server.stats().pendingReplies, 1);
    await michael.la.expectSilence(100);
    await bob.lb.send(Status.RECEIPT_OK);
    await michael.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test("lock: /toall and /to to the same receiver take turns on its Lb", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const michael = await target.join("michael");
    const jacky = await target.join("jacky");
    const alice = await target.join("alice");
    await Promise.all([
      jacky.send("/toall to all"),
      alice.send("/to bob to bob"),
    ]);
    const lines = await receiveOneAtATime(target, bob, 2);
    assert.deepEqual(lines.toSorted(), [
      "/broadcastfrom jacky to all",
      "/from alice to bob",
    ]);
    await michael.lb.expectLine("/broadcastfrom jacky to all");
    await alice.lb.expectLine("/broadcastfrom jacky to all");
    await jacky.expectLine(Status.DELIVERY_OK);
    await alice.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test("lock: is per receiver; a held receiver does not block messages to others", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const carol = await target.join("carol");
    const jacky = await target.join("jacky");
    const michael = await target.join("michael");
    await jacky.send("/to bob held");
    await bob.lb.expectLine("/from jacky held");
    // bob has not replied; carol's Lb is free.
    await michael.send("/to carol free");
    await carol.lb.expectLine("/from michael free");
    await michael.expectLine(Status.DELIVERY_OK);
    await bob.lb.send(Status.RECEIPT_OK);
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test("lock: five senders to one receiver; one exchange at a time, each once", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const names = ["jacky", "michael", "alice", "carol", "dave"];
    const senders = await Promise.all(names.map((name) => target.join(name)));
    await Promise.all(senders.map((s) => s.send(`/to bob hi from ${s.name}`)));
    const lines = await receiveOneAtATime(target, bob, names.length);
    assert.deepEqual(
      lines.toSorted(),
      names.map((name) => `/from ${name} hi from ${name}`).toSorted(),
    );
    await Promise.all(senders.map((s) => s.expectLine(Status.DELIVERY_OK)));
    for (const sender of senders) await expectNothingMoreOnLb(bob, sender);
  });
});

Deno.test({
  name: "lock: a receiver that times out frees the senders queued behind it" +
    " [in-process only: short reply timeout]",
  ignore: IS_EXTERNAL,
  fn: async () => {
    await withTarget(async (target) => {
      const bob = await target.join("bob", { autoReply: false });
      const jacky = await target.join("jacky");
      const michael = await target.join("michael");
      await jacky.send("/to bob first");
      await bob.lb.expectLine("/from jacky first");
      await michael.send("/to bob second");
      // bob never replies.
      await jacky.expectLine(Status.DELIVERY_FAILED, REPLY_TIMEOUT_MS * 6);
      const firstFailed = performance.now();
      await michael.expectLine(Status.DELIVERY_FAILED, REPLY_TIMEOUT_MS * 6);
      const gap = performance.now() - firstFailed;
      assert.ok(
        gap < REPLY_TIMEOUT_MS * 0.9,
        `the queued sender waited ${gap} ms more for a logged-out receiver`,
      );
      await bob.la.expectClosed();
      await jacky.request("/list", "301 jacky michael");
    });
  },
});
