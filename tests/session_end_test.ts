/**
 * How a `Session` ends (decisions 5 and 7 of `docs/protocol.md`, and the
 * limits of `docs/reliability.md`): `/exit` and what is in flight then, a
 * client that goes away, a fault inside the server, and the login and write
 * timeouts. The session runs on fake links, as in `session_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatLinkListener } from "../lib/server/links.ts";
import type { Delivery } from "../lib/server/delivery.ts";
import type { Inbox } from "../lib/server/inbox.ts";
import { LocalRegistry } from "../lib/server/registry.ts";
import { FakeChatLink } from "./support/fake_links.ts";
import { pollUntil } from "./support/faults.ts";
import { type RigClient, SessionRig } from "./support/server_parts.ts";

const AUTH_OK = "101 Authentication successful";
const AUTH_FAILED = "102 Authentication failed";
const BUILD_FAILED = "202 Build connection failed";
const RECEIPT = "302 Message receipt successful";
const DELIVERED = "303 Message delivery successful";
const NOT_DELIVERED = "304 Message delivery failed";
const BYE = "310 Bye bye";
const UNRECOGNIZED = "401 Unrecognized message";

/** A registry whose claims wait for `gate`, and fail if it is rejected. */
class HeldRegistry extends LocalRegistry {
  readonly gate = Promise.withResolvers<void>();
  claims = 0;

  override async claim(inbox: Inbox): Promise<boolean> {
    this.claims++;
    await this.gate.promise;
    return await super.claim(inbox);
  }
}

/** Waits until `client`'s session has ended and let go of everything. */
async function ended(rig: SessionRig, client: RigClient): Promise<void> {
  await pollUntil(
    () => rig.ended.includes(client.session),
    () => `${client.session.label} is ${client.session.state}, not ended`,
  );
  assert.equal(client.session.state, "gone");
  assert.equal(client.link.closed, true, "La is closed");
  if (client.link.lb !== undefined) {
    assert.equal(client.link.lb.closed, true, "Lb is closed");
  }
}

/** Waits until `client`'s Lb carries `count` lines. */
async function chatFor(client: RigClient, count = 1): Promise<void> {
  await pollUntil(
    () => client.lb.sent.length >= count,
    () => `Lb carries ${JSON.stringify(client.lb.sent)}, not ${count} lines`,
  );
}

Deno.test("session /exit: 310, then La and Lb close and the user is off the list", async () => {
  await using rig = new SessionRig();
  const bob = await rig.join("bob");
  const jacky = await rig.join("jacky");
  await jacky.request("/exit", BYE);
  await ended(rig, jacky);
  assert.deepEqual(jacky.link.history.slice(-2), [`reply ${BYE}`, "close"]);
  assert.deepEqual(rig.registry.namesFor("bob"), ["bob"]);
  await bob.request("/to jacky hi", NOT_DELIVERED);
  assert.equal(rig.logged("logout").at(-1)?.level, "info", "a normal end");
});

Deno.test("session /exit before /port: 310, and the user is off the list", async () => {
  await using rig = new SessionRig();
  const jacky = rig.connect();
  await jacky.request("/login jacky 12345", AUTH_OK);
  await jacky.request("/exit", BYE);
  await ended(rig, jacky);
  assert.equal(rig.registry.size, 0);
});

Deno.test("session /exit: the delivery in flight to the leaving user finishes; a sender queued behind it gets 304", async () => {
  await using rig = new SessionRig();
  const jacky = await rig.join("jacky");
  const michael = await rig.join("michael");
  const bob = await rig.join("bob");
  jacky.send("/to bob in flight");
  await chatFor(bob);
  michael.send("/to bob queued");
  await pollUntil(
    () => bob.session.inbox?.lock.waiting === 1,
    () => "michael's /to is not waiting for bob's lock",
  );
  bob.send("/exit");
  await pollUntil(
    () => rig.registry.local("bob") === undefined,
    () => "bob is still listed after /exit",
  );
  assert.deepEqual(bob.link.replies.slice(2), [], "no 310 before the 302");
  bob.lb.reply(RECEIPT);
  assert.equal(await jacky.reply(), DELIVERED);
  // Either michael is answered, or his line reaches bob after all.
  await pollUntil(
    () => michael.link.replies.length > 2 || bob.lb.sent.length > 1,
    () => "michael's /to neither answered nor delivered",
  );
  assert.deepEqual(
    bob.lb.sent,
    ["/from jacky in flight"],
    "a sender queued when bob sent /exit got his line to bob",
  );
  assert.equal(await michael.reply(), NOT_DELIVERED);
  assert.equal(await bob.reply(), BYE);
  await ended(rig, bob);
});

Deno.test("session /exit: a /to that comes while the leaving user's delivery finishes gets 304 at once; a /toall leaves them out", async () => {
  await using rig = new SessionRig();
  const jacky = await rig.join("jacky");
  const michael = await rig.join("michael");
  const bob = await rig.join("bob");
  jacky.send("/to bob in flight");
  await chatFor(bob);
  bob.send("/exit");
  await pollUntil(
    () => rig.registry.local("bob") === undefined,
    () => "bob is still listed after /exit",
  );
  await michael.request("/to bob too late", NOT_DELIVERED);
  // A /toall meanwhile reaches everyone else, and not bob.
  michael.send("/toall all but bob");
  await chatFor(jacky);
  jacky.lb.reply(RECEIPT);
  assert.equal(await michael.reply(), DELIVERED);
  bob.lb.reply(RECEIPT);
  assert.equal(await jacky.reply(), DELIVERED);
  assert.equal(await bob.reply(), BYE);
  await ended(rig, bob);
  assert.deepEqual(bob.lb.sent, ["/from jacky in flight"]);
});

Deno.test("session: a client that closes La is off the list at once; lines it sent before are answered, but a /to after it left is 304", async () => {
  await using rig = new SessionRig();
  const alice = await rig.join("alice");
  const bob = await rig.join("bob");
  bob.send("/to alice sent before leaving", "/to alice queued", "/list");
  await chatFor(alice);
  bob.hangUp();
  assert.equal(rig.registry.local("bob"), undefined, "off the list at once");
  assert.equal(bob.lb.closed, true, "Lb closed at once");
  alice.lb.reply(RECEIPT);
  assert.deepEqual(
    [await bob.reply(), await bob.reply()],
    [DELIVERED, NOT_DELIVERED],
  );
  await ended(rig, bob);
  assert.deepEqual(alice.lb.sent, ["/from bob sent before leaving"]);
});

Deno.test("session: a client that closes its Lb is dropped: La closed, off the list", async () => {
  await using rig = new SessionRig();
  await rig.join("jacky");
  const bob = await rig.join("bob");
  bob.lb.hangUp();
  await ended(rig, bob);
  assert.deepEqual(rig.registry.namesFor("jacky"), ["jacky"]);
  assert.equal(rig.logged("logout").at(-1)?.level, "error");
});

Deno.test("session: a receiver that does not answer in time is dropped, and its sender gets 304", async () => {
  await using rig = new SessionRig({ replyTimeoutMs: 30 });
  const jacky = await rig.join("jacky");
  const bob = await rig.join("bob");
  await jacky.request("/to bob are you there?", NOT_DELIVERED);
  await ended(rig, bob);
  await jacky.request("/list", "301 jacky");
});

Deno.test("session: a client gone while /port connects has the attempt aborted, and an Lb that comes anyway is closed", async () => {
  await using rig = new SessionRig();
  const opening = Promise.withResolvers<void>();
  let attempt: AbortSignal | undefined;
  const late = new FakeChatLink();
  const client = rig.connect({
    openChat: async (port, _listener: ChatLinkListener, signal) => {
      attempt = signal;
      await opening.promise;
      return { link: late, target: `192.0.2.1:${port}` };
    },
  });
  await client.request("/login jacky 12345", AUTH_OK);
  client.send("/port 30232");
  await pollUntil(() => attempt !== undefined, () => "no attempt for Lb");
  client.hangUp();
  assert.equal(attempt?.aborted, true, "the attempt is aborted at once");
  assert.equal(rig.registry.size, 0);
  opening.resolve();
  assert.equal(await client.reply(), BUILD_FAILED);
  await ended(rig, client);
  assert.equal(late.closed, true, "the late Lb is not kept");
});

Deno.test("session: a client gone while its name is being claimed is not left on the list", async () => {
  const registry = new HeldRegistry();
  await using rig = new SessionRig({ registry });
  const client = rig.connect();
  client.send("/login jacky 12345");
  await pollUntil(() => registry.claims === 1, () => "no claim");
  client.hangUp();
  registry.gate.resolve();
  assert.equal(await client.reply(), AUTH_FAILED);
  await ended(rig, client);
  assert.equal(registry.size, 0, "jacky is not listed");
});

Deno.test("session: a registry that fails on login gets one 102, with the cause logged", async () => {
  const registry = new HeldRegistry();
  registry.gate.reject(new Error("registry unreachable"));
  await using rig = new SessionRig({ registry });
  const client = rig.connect();
  client.send("/login jacky 12345", "/list");
  assert.equal(await client.reply(), AUTH_FAILED);
  assert.equal(await client.reply(), UNRECOGNIZED, "still not logged in");
  assert.equal(client.link.replies.length, 2);
  const failed = rig.logged("login-failed");
  assert.equal(failed.length, 1);
  assert.match(failed[0].cause ?? "", /registry unreachable/);
  assert.equal(client.session.state, "connected");
  assert.equal(registry.size, 0);
});

Deno.test("session: a delivery that fails inside the server gets one 304, logged, and the next line is served", async () => {
  const delivery: Delivery = {
    sendTo: () => Promise.reject(new Error("delivery exploded")),
    sendToAll: () => {
      throw new Error("broadcast exploded");
    },
  };
  await using rig = new SessionRig({ delivery });
  const jacky = await rig.join("jacky");
  jacky.send("/to bob hi", "/toall hi", "/list");
  assert.deepEqual(
    [await jacky.reply(), await jacky.reply(), await jacky.reply()],
    [NOT_DELIVERED, NOT_DELIVERED, "301 jacky"],
  );
  assert.equal(jacky.link.replies.length, 2 + 3);
  const causes = rig.logged("internal-error").map((event) => event.cause);
  assert.equal(causes.length, 2);
  assert.match(causes.join(), /delivery exploded.*broadcast exploded/);
  assert.equal(jacky.session.state, "online");
});

Deno.test("session: a connection that does not log in within the login timeout is dropped", async () => {
  await using rig = new SessionRig({ loginTimeoutMs: 20 });
  const idle = rig.connect();
  const failing = rig.connect();
  await failing.request("/login jacky wrong", AUTH_FAILED);
  await ended(rig, idle);
  await ended(rig, failing);
  assert.deepEqual(idle.link.replies, []);
  assert.equal(rig.logins.size, 0);
});

Deno.test("session: a client that never takes its reply is dropped after the write timeout", async () => {
  await using rig = new SessionRig({ writeTimeoutMs: 20 });
  await rig.join("bob");
  const jacky = await rig.join("jacky");
  jacky.link.stall();
  jacky.send("/list", "/list");
  await ended(rig, jacky);
  assert.equal(rig.registry.local("jacky"), undefined);
  assert.equal(rig.writes.size, 0, "no write timeout left armed");
  assert.equal(rig.logged("logout").at(-1)?.user, "jacky");
});
