/**
 * `Session`, the commands each state accepts (decisions 1 to 4 and 8 of
 * `docs/protocol.md`), and the order of replies. The session runs on fake
 * links with a real registry, delivery and authenticator behind it; how a
 * session ends is in `session_end_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  LINE_NOT_UTF8,
  LINE_TOO_LONG,
  type LineResult,
} from "../lib/net/line_reader.ts";
import { FakeChatLink } from "./support/fake_links.ts";
import { pollUntil } from "./support/faults.ts";
import { SessionRig, within } from "./support/server_parts.ts";

const AUTH_OK = "101 Authentication successful";
const AUTH_FAILED = "102 Authentication failed";
const BUILD_OK = "201 Build connection successful";
const BUILD_FAILED = "202 Build connection failed";
const RECEIPT = "302 Message receipt successful";
const DELIVERED = "303 Message delivery successful";
const NOT_DELIVERED = "304 Message delivery failed";
const UNRECOGNIZED = "401 Unrecognized message";

Deno.test("session connected: only /login is accepted; every other line gets 401", async () => {
  await using rig = new SessionRig();
  await rig.join("bob");
  const client = rig.connect();
  const lines: LineResult[] = [
    "/list",
    "/to bob hi",
    "/toall hi",
    "/exit",
    "/port 30232",
    "hello",
    "",
    LINE_NOT_UTF8,
    LINE_TOO_LONG,
  ];
  client.send(...lines);
  for (const line of lines) {
    assert.equal(await client.reply(String(line)), UNRECOGNIZED);
  }
  assert.equal(client.session.state, "connected");
  assert.deepEqual(rig.registry.namesFor("bob"), ["bob"]);
  assert.deepEqual(client.link.lb, undefined, "no Lb was opened");
  assert.equal(client.link.closed, false, "/exit before login ends nothing");
});

Deno.test("session login: a wrong password, an unknown user or a malformed /login gets 102; the client may try again", async () => {
  await using rig = new SessionRig();
  const client = rig.connect();
  for (
    const line of [
      "/login bob wrong",
      "/login ghost bob-pw",
      "/login bob",
      "/login bob bob-pw extra",
      "/login  bob bob-pw",
      "/login",
      "/login BOB bob-pw",
    ]
  ) {
    await client.request(line, AUTH_FAILED);
    assert.equal(client.session.state, "connected", line);
  }
  assert.equal(rig.registry.size, 0);
  await client.request("/login bob bob-pw", AUTH_OK);
  assert.equal(client.session.state, "online");
  assert.equal(rig.registry.local("bob"), client.session.inbox);
});

Deno.test("session login: 101 lists the user at once, before /port, and stops the login timeout", async () => {
  await using rig = new SessionRig();
  const client = rig.connect();
  assert.equal(rig.logins.size, 1);
  await client.request("/login jacky 12345", AUTH_OK);
  assert.deepEqual(rig.registry.namesFor("jacky"), ["jacky"]);
  assert.equal(rig.logins.size, 0);
});

Deno.test("session login: a user already online gets 102; the first session is untouched", async () => {
  await using rig = new SessionRig();
  const first = await rig.join("bob");
  const second = rig.connect();
  await second.request("/login bob bob-pw", AUTH_FAILED);
  assert.equal(second.session.state, "connected");
  assert.equal(first.session.state, "online");
  assert.equal(rig.registry.local("bob"), first.session.inbox);
  assert.equal(first.link.closed, false);
  assert.equal(first.lb.closed, false);
  await first.request("/list", "301 bob");
  // The refused client may still log in as someone else.
  await second.request("/login jacky 12345", AUTH_OK);
});

Deno.test("session online: /login is 401, whoever it names", async () => {
  await using rig = new SessionRig();
  const bob = await rig.join("bob");
  await bob.request("/login bob bob-pw", UNRECOGNIZED);
  await bob.request("/login jacky 12345", UNRECOGNIZED);
  await bob.request("/login bob", UNRECOGNIZED);
  assert.equal(bob.session.label, "bob");
  assert.deepEqual(rig.registry.namesFor("bob"), ["bob"]);
});

Deno.test("session /port: 201 once the Lb is open; a second /port is 401", async () => {
  await using rig = new SessionRig();
  const client = rig.connect();
  await client.request("/login jacky 12345", AUTH_OK);
  await client.request("/port 30232", BUILD_OK);
  assert.equal(client.link.chatLinks.length, 1);
  await client.request("/port 30233", UNRECOGNIZED);
  await client.request("/port 30232", UNRECOGNIZED);
  assert.equal(client.link.chatLinks.length, 1, "no second Lb");
  assert.equal(client.lb.closed, false);
});

Deno.test("session /port: a failed Lb gets 202, the reason is logged, and /port is not taken twice", async () => {
  await using rig = new SessionRig();
  const client = rig.connect({
    openChat: (port) =>
      Promise.resolve({
        error: "connection refused",
        target: `192.0.2.1:${port}`,
      }),
  });
  await client.request("/login jacky 12345", AUTH_OK);
  await client.request("/port 30232", BUILD_FAILED);
  assert.equal(rig.logged("lb-failed").length, 1);
  assert.match(rig.logged("lb-failed")[0].cause ?? "", /connection refused/);
  await client.request("/port 30232", UNRECOGNIZED);
});

Deno.test("session /port: on a link that has no /port it is 401; a chat link that comes with the link takes chat", async () => {
  await using rig = new SessionRig();
  const bob = await rig.join("bob");
  const chat = new FakeChatLink();
  const carried = rig.connect({ openChat: null, chat });
  await carried.request("/login jacky 12345", AUTH_OK);
  await carried.request("/port 30232", UNRECOGNIZED);
  bob.send("/to jacky hi");
  await pollUntil(() => chat.sent.length === 1, () => "no chat for jacky");
  assert.deepEqual(chat.sent, ["/from bob hi"]);
  // This fake chat link has no reader: hand the receipt to the inbox.
  carried.session.inbox?.takeReply(RECEIPT);
  assert.equal(await bob.reply(), DELIVERED);
});

Deno.test("session /list: the requester first, then the others in login order (the Appendix's 301 jacky bob michael)", async () => {
  await using rig = new SessionRig();
  await rig.join("bob");
  const michael = await rig.join("michael");
  const jacky = await rig.join("jacky");
  await jacky.request("/list", "301 jacky bob michael");
  await michael.request("/list", "301 michael bob jacky");
});

Deno.test("session before /port: commands are served; a user without Lb gets no chat (/to 304, /toall skips)", async () => {
  await using rig = new SessionRig();
  const bob = await rig.join("bob");
  const jacky = rig.connect();
  await jacky.request("/login jacky 12345", AUTH_OK);
  await jacky.request("/list", "301 jacky bob");
  await bob.request("/to jacky hi", NOT_DELIVERED);
  await bob.request("/toall hi", DELIVERED);
  jacky.send("/to bob hello");
  await pollUntil(() => bob.lb.sent.length === 1, () => "no chat for bob");
  bob.lb.reply(RECEIPT);
  assert.equal(await jacky.reply(), DELIVERED);
});

Deno.test("session: pipelined lines are answered one at a time, in the order they came", async () => {
  await using rig = new SessionRig();
  const bob = await rig.join("bob");
  const jacky = rig.connect();
  jacky.send(
    "/login jacky 12345",
    "/list",
    "/to bob first",
    "/list",
    "/nonsense",
    "/to ghost hi",
    "/toall second",
  );
  await pollUntil(() => bob.lb.sent.length === 1, () => "no chat for bob");
  // The /to waits for bob's receipt; nothing after it is answered first.
  assert.deepEqual(jacky.link.replies, [AUTH_OK, "301 jacky bob"]);
  bob.lb.reply(RECEIPT);
  await pollUntil(() => bob.lb.sent.length === 2, () => "no broadcast");
  assert.deepEqual(jacky.link.replies, [
    AUTH_OK,
    "301 jacky bob",
    DELIVERED,
    "301 jacky bob",
    UNRECOGNIZED,
    NOT_DELIVERED,
  ]);
  bob.lb.reply(RECEIPT);
  await pollUntil(
    () => jacky.link.replies.length === 7,
    () => `replies: ${JSON.stringify(jacky.link.replies)}`,
  );
  assert.equal(jacky.link.replies[6], DELIVERED);
  assert.deepEqual(bob.lb.sent, [
    "/from jacky first",
    "/broadcastfrom jacky second",
  ]);
});

Deno.test("session: past 16 lines waiting for their answers, receiving holds back the reader until they are answered", async () => {
  await using rig = new SessionRig();
  const bob = await rig.join("bob");
  const jacky = await rig.join("jacky");
  // The first line waits for bob's receipt, so the others pile up.
  const held: (Promise<void> | undefined)[] = [];
  held.push(jacky.session.receive("/to bob hi"));
  for (let i = 1; i < 16; i++) held.push(jacky.session.receive("/list"));
  assert.deepEqual(held.slice(0, 15), Array(15).fill(undefined));
  const backPressure = held[15];
  assert.ok(backPressure instanceof Promise, "the 16th line holds back");
  await pollUntil(() => bob.lb.sent.length === 1, () => "no chat for bob");
  bob.lb.reply(RECEIPT);
  await within(backPressure, "the lines being answered");
  assert.equal(jacky.link.replies.length, 2 + 16);
  assert.equal(jacky.link.replies[2], DELIVERED);
});

Deno.test("session trace: every line on La and Lb, by whom and on which link, named by user once known", async () => {
  const lines: string[] = [];
  await using rig = new SessionRig({
    trace: (e) => lines.push(`${e.user} ${e.from}(${e.link}): ${e.line}`),
  });
  const bob = await rig.join("bob");
  lines.length = 0;
  const jacky = rig.connect();
  jacky.send("/login jacky 12345", LINE_NOT_UTF8, "/to bob hi");
  await pollUntil(() => bob.lb.sent.length === 1, () => "no chat for bob");
  bob.lb.reply(RECEIPT);
  assert.equal(await jacky.reply(), AUTH_OK);
  assert.equal(await jacky.reply(), UNRECOGNIZED);
  assert.equal(await jacky.reply(), DELIVERED);
  assert.deepEqual(lines, [
    "192.0.2.1:40000 CLIENT(a): /login jacky 12345",
    "192.0.2.1:40000 CLIENT(a): \uFFFD",
    "192.0.2.1:40000 CLIENT(a): /to bob hi",
    "jacky SERVER(a): 101 Authentication successful",
    "jacky SERVER(a): 401 Unrecognized message",
    "bob SERVER(b): /from jacky hi",
    "bob CLIENT(b): 302 Message receipt successful",
    "jacky SERVER(a): 303 Message delivery successful",
  ]);
});
