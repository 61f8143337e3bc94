/**
 * `LocalDelivery`: `/to` and `/toall` (decisions 4, 5 and 6 of
 * `docs/protocol.md`), over inboxes with fake Lbs in a real registry.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TimeoutQueue } from "../lib/async/timeout_queue.ts";
import { LINE_NOT_UTF8, type LineResult } from "../lib/net/line_reader.ts";
import { LocalDelivery } from "../lib/server/delivery.ts";
import { Inbox } from "../lib/server/inbox.ts";
import type { LogEvent } from "../lib/server/log.ts";
import { LocalRegistry } from "../lib/server/registry.ts";
import { FakeChatLink } from "./support/fake_links.ts";
import { pollUntil } from "./support/faults.ts";
import { FakeOwner, recordingLog, within } from "./support/server_parts.ts";

const RECEIPT = "302 Message receipt successful";

/** One online user: inbox, owner, and fake Lb (if built). */
interface User {
  inbox: Inbox;
  owner: FakeOwner;
  lb: FakeChatLink;
}

/** A registry of users with a delivery over it. */
class World implements Disposable {
  readonly registry = new LocalRegistry();
  readonly replies: TimeoutQueue;
  readonly events: LogEvent[];
  readonly delivery: LocalDelivery;

  constructor(replyTimeoutMs = 10_000) {
    const { log, events } = recordingLog();
    this.events = events;
    this.replies = new TimeoutQueue(replyTimeoutMs);
    this.delivery = new LocalDelivery(this.registry, {
      replies: this.replies,
      log,
    });
  }

  /** Puts `name` online, with an Lb unless `withLb` is false. */
  async online(name: string, withLb = true): Promise<User> {
    const owner = new FakeOwner();
    const inbox = new Inbox(name, owner);
    const lb = new FakeChatLink(inbox);
    if (withLb) inbox.attach(lb);
    assert.equal(await this.registry.claim(inbox), true);
    return { inbox, owner, lb };
  }

  /** The causes of the failures logged. */
  failures(): string[] {
    return this.events
      .filter((event) => event.event === "delivery-failed")
      .map((event) => `${event.to}: ${event.cause}`);
  }

  [Symbol.dispose](): void {
    this.replies.close();
  }
}

/** Waits until `user`'s Lb carries `count` lines. */
async function received(user: User, count = 1): Promise<void> {
  await pollUntil(
    () => user.lb.sent.length >= count,
    () =>
      `${user.inbox.name}'s Lb carries ${JSON.stringify(user.lb.sent)}, ` +
      `not ${count} lines`,
  );
}

Deno.test("delivery /to: /from <sender> <content> on the receiver's Lb; its 302 makes it true", async () => {
  using world = new World();
  const bob = await world.online("bob");
  const sent = world.delivery.sendTo(
    "jacky",
    "bob",
    "Hello! Nice to meet you!",
  );
  await received(bob);
  assert.deepEqual(bob.lb.sent, ["/from jacky Hello! Nice to meet you!"]);
  assert.deepEqual(
    bob.lb.sentBytes[0],
    new TextEncoder().encode("/from jacky Hello! Nice to meet you!\n"),
  );
  bob.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/to bob"), true);
  assert.deepEqual(world.failures(), []);
  assert.equal(world.events.filter((e) => e.event === "delivery").length, 1);
});

Deno.test("delivery /to: content is passed byte for byte, spaces and UTF-8 kept", async () => {
  using world = new World();
  const bob = await world.online("bob");
  const content = "  two  spaces, trailing too  ¿qué? 你好 👋 ";
  const sent = world.delivery.sendTo("jacky", "bob", content);
  await received(bob);
  assert.equal(bob.lb.sent[0], `/from jacky ${content}`);
  assert.deepEqual(
    bob.lb.sentBytes[0],
    new TextEncoder().encode(`/from jacky ${content}\n`),
  );
  bob.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/to bob"), true);
});

Deno.test("delivery /to: to yourself is delivered like any other", async () => {
  using world = new World();
  const jacky = await world.online("jacky");
  const sent = world.delivery.sendTo("jacky", "jacky", "note to self");
  await received(jacky);
  assert.deepEqual(jacky.lb.sent, ["/from jacky note to self"]);
  jacky.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/to jacky"), true);
});

Deno.test("delivery /to: a reply other than the 302 line is false, and the receiver stays online", async () => {
  using world = new World();
  const bob = await world.online("bob");
  const wrong: LineResult[] = [
    "302 Message receipt successfu",
    "302 message receipt successful",
    "302 Message receipt successful ",
    "303 Message delivery successful",
    "",
    LINE_NOT_UTF8,
  ];
  for (const reply of wrong) {
    const sent = world.delivery.sendTo("jacky", "bob", "hi");
    await received(bob, bob.lb.sent.length + 1);
    bob.lb.reply(reply);
    assert.equal(
      await within(sent, `/to bob answered ${String(reply)}`),
      false,
    );
  }
  assert.equal(world.registry.local("bob"), bob.inbox);
  assert.deepEqual(bob.owner.drops, []);
  assert.equal(bob.lb.closed, false);
  assert.equal(world.failures().length, wrong.length);
});

Deno.test("delivery /to: no reply within the reply timeout is false, and the receiver is dropped", async () => {
  using world = new World(20);
  const bob = await world.online("bob");
  const sent = world.delivery.sendTo("jacky", "bob", "anyone there?");
  assert.equal(await within(sent, "/to a silent bob"), false);
  assert.equal(bob.owner.drops.length, 1, "bob's session is ended");
  assert.deepEqual(world.failures().map((f) => f.split(":")[0]), ["bob"]);
});

Deno.test("delivery /to: an Lb that breaks is false, and the receiver is dropped", async () => {
  using world = new World();
  const bob = await world.online("bob");
  bob.lb.break();
  const sent = world.delivery.sendTo("jacky", "bob", "hi");
  assert.equal(await within(sent, "/to bob over a broken Lb"), false);
  assert.equal(bob.owner.drops.length, 1, "bob's session is ended");
});

Deno.test("delivery /to: an unknown, offline or Lb-less target is false at once, with nothing sent", async () => {
  // A reply timeout far beyond the wait: any waiting would show.
  using world = new World(60_000);
  const noLb = await world.online("alice", false);
  const left = await world.online("michael");
  world.registry.release(left.inbox);
  const leaving = await world.online("bob");
  leaving.inbox.stopTaking();
  for (const target of ["ghost", "alice", "michael", "bob"]) {
    assert.equal(
      await within(world.delivery.sendTo("jacky", target, "hi"), target, 500),
      false,
      target,
    );
  }
  for (const user of [noLb, left, leaving]) assert.deepEqual(user.lb.sent, []);
  assert.equal(world.replies.size, 0, "no reply was awaited");
  assert.equal(world.failures().length, 4);
});

Deno.test("delivery /toall: every other user has the line before anyone replies, and all 302 make it true", async () => {
  using world = new World();
  const jacky = await world.online("jacky");
  const others = [
    await world.online("bob"),
    await world.online("michael"),
    await world.online("alice"),
  ];
  const sent = world.delivery.sendToAll("jacky", "How about 3pm?");
  // Nobody has replied yet: had the sends gone one after another, only
  // the first receiver would have the line.
  await Promise.all(others.map((user) => received(user)));
  for (const user of others) {
    assert.deepEqual(user.lb.sent, ["/broadcastfrom jacky How about 3pm?"]);
  }
  assert.deepEqual(jacky.lb.sent, [], "the sender is left out");
  for (const user of others.toReversed()) user.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/toall"), true);
});

Deno.test("delivery /toall: the line is encoded once, the same bytes for every receiver", async () => {
  using world = new World();
  await world.online("jacky");
  const others = [await world.online("bob"), await world.online("michael")];
  const sent = world.delivery.sendToAll("jacky", "héllo");
  await Promise.all(others.map((user) => received(user)));
  const [first, second] = others.map((user) => user.lb.sentBytes[0]);
  assert.equal(first, second, "one buffer shared by every receiver");
  assert.deepEqual(
    first,
    new TextEncoder().encode("/broadcastfrom jacky héllo\n"),
  );
  for (const user of others) user.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/toall"), true);
});

Deno.test("delivery /toall: users without an Lb are skipped, the others still count", async () => {
  using world = new World();
  await world.online("jacky");
  const noLb = await world.online("alice", false);
  const bob = await world.online("bob");
  const sent = world.delivery.sendToAll("jacky", "hi all");
  await received(bob);
  bob.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/toall"), true);
  assert.deepEqual(noLb.lb.sent, []);
});

Deno.test("delivery /toall: with nobody else online (or only users without Lb) it is true at once", async () => {
  using world = new World(60_000);
  const jacky = await world.online("jacky");
  assert.equal(
    await within(world.delivery.sendToAll("jacky", "anyone?"), "alone", 500),
    true,
  );
  await world.online("alice", false);
  assert.equal(
    await within(world.delivery.sendToAll("jacky", "anyone?"), "no Lb", 500),
    true,
  );
  assert.deepEqual(jacky.lb.sent, []);
  assert.equal(world.replies.size, 0);
});

Deno.test("delivery /toall: one wrong reply makes it false; the others are still delivered", async () => {
  using world = new World();
  await world.online("jacky");
  const bob = await world.online("bob");
  const michael = await world.online("michael");
  const alice = await world.online("alice");
  const sent = world.delivery.sendToAll("jacky", "hi");
  await Promise.all([bob, michael, alice].map((user) => received(user)));
  bob.lb.reply(RECEIPT);
  michael.lb.reply("401 Unrecognized message");
  alice.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/toall"), false);
  assert.deepEqual(world.failures().map((f) => f.split(":")[0]), ["michael"]);
  assert.equal(world.registry.size, 4, "a wrong reply logs nobody out");
});

Deno.test("delivery /toall: a silent receiver makes it false and is dropped; the others answered meanwhile", async () => {
  using world = new World(50);
  await world.online("jacky");
  const bob = await world.online("bob");
  const silent = await world.online("michael");
  const sent = world.delivery.sendToAll("jacky", "hi");
  await received(bob);
  bob.lb.reply(RECEIPT);
  assert.equal(await within(sent, "/toall"), false);
  assert.deepEqual(bob.owner.drops, []);
  assert.equal(silent.owner.drops.length, 1);
  assert.deepEqual(silent.lb.sent, ["/broadcastfrom jacky hi"]);
});

Deno.test("delivery: a /to waits for the receiver's exchange in flight, then goes out", async () => {
  using world = new World();
  const bob = await world.online("bob");
  const first = world.delivery.sendTo("jacky", "bob", "first");
  const second = world.delivery.sendTo("michael", "bob", "second");
  await received(bob);
  assert.deepEqual(bob.lb.sent, ["/from jacky first"]);
  bob.lb.reply(RECEIPT);
  await received(bob, 2);
  bob.lb.reply(RECEIPT);
  assert.deepEqual(await within(Promise.all([first, second]), "both"), [
    true,
    true,
  ]);
  assert.deepEqual(bob.lb.sent, ["/from jacky first", "/from michael second"]);
});
