/**
 * `Inbox`, one user's receiving side (decision 5 of `docs/protocol.md`): one
 * exchange at a time on the chat link, under a first-come, first-served
 * lock; the reply settles it; a timeout or a broken link ends it; leaving
 * lets the exchange in flight finish and turns the rest away.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TimeoutQueue } from "../lib/async/timeout_queue.ts";
import { encodeLine } from "../lib/net/line_connection.ts";
import { LINE_NOT_UTF8 } from "../lib/net/line_reader.ts";
import {
  Inbox,
  type Receipt,
  RECEIVER_LEFT,
  TIMED_OUT,
} from "../lib/server/inbox.ts";
import { FakeChatLink } from "./support/fake_links.ts";
import { pollUntil } from "./support/faults.ts";
import { FakeOwner, PROMPTLY_MS, within } from "./support/server_parts.ts";

const RECEIPT = "302 Message receipt successful";

/** bob's inbox with its fake Lb attached, and a reply timeout. */
class Bob implements Disposable {
  readonly owner = new FakeOwner();
  readonly inbox = new Inbox("bob", this.owner);
  readonly lb = new FakeChatLink(this.inbox);
  readonly replies: TimeoutQueue;

  constructor(replyTimeoutMs = 10_000) {
    this.replies = new TimeoutQueue(replyTimeoutMs);
    this.inbox.attach(this.lb);
  }

  /** Starts an exchange carrying `text`. */
  exchange(text: string): Promise<Receipt> {
    return this.inbox.exchange(text, encodeLine(text), this.replies);
  }

  /** Waits until `count` lines have been written on Lb. */
  async sent(count: number): Promise<void> {
    await pollUntil(
      () => this.lb.sent.length >= count,
      () => `Lb carries ${JSON.stringify(this.lb.sent)}, not ${count} lines`,
    );
  }

  [Symbol.dispose](): void {
    this.replies.close();
  }
}

Deno.test("inbox: takes no chat before a link is attached; an exchange then finds the receiver gone", async () => {
  using bob = new Bob();
  const bare = new Inbox("bob", bob.owner);
  assert.equal(bare.ready, false);
  assert.equal(bare.linked, false);
  const receipt = await within(
    bare.exchange("/from jacky hi", encodeLine("/from jacky hi"), bob.replies),
    "an exchange with no link",
  );
  assert.equal(receipt, RECEIVER_LEFT);
  assert.equal(bob.replies.size, 0, "no reply timeout was armed");
  assert.equal(bob.inbox.ready, true);
  assert.equal(bob.inbox.linked, true);
});

Deno.test("inbox: an exchange writes the line (text and bytes) and settles with the reply", async () => {
  using bob = new Bob();
  const receipt = bob.exchange("/from jacky Hello!");
  await bob.sent(1);
  assert.deepEqual(bob.lb.sent, ["/from jacky Hello!"]);
  assert.deepEqual(
    bob.lb.sentBytes[0],
    new TextEncoder().encode("/from jacky Hello!\n"),
  );
  assert.equal(bob.inbox.lock.locked, true);
  bob.lb.reply(RECEIPT);
  assert.equal(await within(receipt, "the exchange"), RECEIPT);
  assert.equal(bob.inbox.lock.locked, false, "the lock is released");
  assert.equal(bob.replies.size, 0, "the reply timeout is cancelled");
});

Deno.test("inbox: whatever comes back settles the exchange, even a wrong or unreadable line", async () => {
  using bob = new Bob();
  const wrong = bob.exchange("/from jacky one");
  await bob.sent(1);
  bob.lb.reply("303 Message delivery successful");
  assert.equal(await within(wrong, "first"), "303 Message delivery successful");
  const unreadable = bob.exchange("/from jacky two");
  await bob.sent(2);
  bob.lb.reply(LINE_NOT_UTF8);
  assert.equal(await within(unreadable, "second"), LINE_NOT_UTF8);
});

Deno.test("inbox: one exchange at a time; the others wait their turn, first come, first served", async () => {
  using bob = new Bob();
  const first = bob.exchange("/from jacky 1");
  const second = bob.exchange("/from michael 2");
  const third = bob.exchange("/broadcastfrom alice 3");
  await bob.sent(1);
  await pollUntil(
    () => bob.inbox.lock.waiting === 2,
    () => `${bob.inbox.lock.waiting} exchanges wait for the lock, not 2`,
  );
  assert.deepEqual(bob.lb.sent, ["/from jacky 1"], "one line at a time");

  bob.lb.reply("302 for 1");
  assert.equal(await within(first, "first"), "302 for 1");
  await bob.sent(2);
  assert.deepEqual(bob.lb.sent, ["/from jacky 1", "/from michael 2"]);

  bob.lb.reply("302 for 2");
  assert.equal(await within(second, "second"), "302 for 2");
  await bob.sent(3);
  bob.lb.reply("302 for 3");
  assert.equal(await within(third, "third"), "302 for 3");
  assert.deepEqual(bob.lb.sent, [
    "/from jacky 1",
    "/from michael 2",
    "/broadcastfrom alice 3",
  ]);
  assert.equal(bob.inbox.lock.locked, false);
});

Deno.test("inbox: a reply with nothing in flight answers nothing and is dropped", async () => {
  using bob = new Bob();
  bob.lb.reply("302 stray, before any exchange");
  const first = bob.exchange("/from jacky 1");
  await bob.sent(1);
  // Had the stray reply been kept, it would have settled this exchange.
  bob.lb.reply("302 for 1");
  assert.equal(await within(first, "first"), "302 for 1");

  bob.lb.reply("302 stray, after the exchange");
  const second = bob.exchange("/from jacky 2");
  await bob.sent(2);
  bob.lb.reply("302 for 2");
  assert.equal(await within(second, "second"), "302 for 2");
  assert.deepEqual(bob.owner.drops, []);
});

Deno.test("inbox: no reply within the reply timeout ends the exchange as timed out; a late reply is dropped", async () => {
  using bob = new Bob(20);
  const silent = bob.exchange("/from jacky anyone there?");
  assert.equal(await within(silent, "the timed-out exchange"), TIMED_OUT);
  assert.equal(bob.inbox.lock.locked, false, "the lock is released");
  // Logging the receiver out is the delivery's call, not the inbox's.
  assert.deepEqual(bob.owner.drops, []);

  bob.lb.reply("302 too late");
  const next = bob.exchange("/from jacky again");
  await bob.sent(2);
  bob.lb.reply(RECEIPT);
  assert.equal(await within(next, "the next exchange"), RECEIPT);
});

Deno.test("inbox: a write that fails ends the exchange as broken, at once", async () => {
  using bob = new Bob();
  bob.lb.break();
  const receipt = await within(
    bob.exchange("/from jacky hi"),
    "an exchange on a broken link",
  );
  assert.equal(receipt, null);
  assert.equal(bob.inbox.lock.locked, false);
  assert.equal(bob.replies.size, 0, "the reply timeout is cancelled");
});

Deno.test("inbox: stopTaking lets the exchange in flight finish and turns away the next", async () => {
  using bob = new Bob();
  const inFlight = bob.exchange("/from jacky in flight");
  const queued = bob.exchange("/from michael queued");
  await bob.sent(1);
  bob.inbox.stopTaking();
  assert.equal(bob.inbox.ready, false);
  bob.lb.reply(RECEIPT);
  assert.equal(await within(inFlight, "the exchange in flight"), RECEIPT);
  assert.equal(await within(queued, "the queued exchange"), RECEIVER_LEFT);
  assert.equal(
    await within(bob.exchange("/from alice later"), "a later exchange"),
    RECEIVER_LEFT,
  );
  assert.deepEqual(bob.lb.sent, ["/from jacky in flight"]);
  assert.equal(bob.lb.closed, false, "stopping is not closing");
});

Deno.test("inbox: close fails the exchange in flight, turns away the queued one and closes the link", async () => {
  using bob = new Bob();
  const inFlight = bob.exchange("/from jacky in flight");
  const queued = bob.exchange("/from michael queued");
  await bob.sent(1);
  bob.inbox.close();
  assert.equal(await within(inFlight, "the exchange in flight"), null);
  assert.equal(await within(queued, "the queued exchange"), RECEIVER_LEFT);
  assert.equal(bob.lb.closed, true);
  assert.equal(bob.inbox.ready, false);
  assert.equal(bob.inbox.linked, false);
  assert.deepEqual(bob.lb.sent, ["/from jacky in flight"]);
  assert.equal(bob.replies.size, 0);
});

Deno.test("inbox: the end of the chat link is passed on to the owner", async () => {
  using bob = new Bob();
  bob.lb.hangUp();
  await pollUntil(
    () => bob.owner.chatEnds.length === 1,
    () => `owner told of ${bob.owner.chatEnds.length} link ends`,
    PROMPTLY_MS,
  );
  assert.deepEqual(bob.owner.chatEnds, ["Lb closed by the client"]);
  assert.equal(bob.inbox.linked, false);
});
