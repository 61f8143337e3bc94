/**
 * The handout's Appendix replayed byte-exact, checked from all three users'
 * points of view: every line on the link the Appendix shows, in its order.
 */

import assert from "node:assert/strict";
import {
  expectNothingMoreOnLa,
  expectNothingMoreOnLb,
  withTarget,
} from "./support/target.ts";
import { Status, type WirePeer } from "./support/wire_peer.ts";
import { BOB, JACKY, MICHAEL, transcript } from "./fixtures/appendix.ts";

/** Asserts nothing is waiting unread on any link of the peers. */
function assertDrained(...peers: WirePeer[]): void {
  for (const peer of peers) {
    assert.equal(peer.la.pending, 0, `${peer.name}: unread lines on La`);
    if (peer.hasLb) {
      assert.equal(peer.lb.pending, 0, `${peer.name}: unread lines on Lb`);
    }
  }
}

Deno.test("appendix: the conversation is byte-exact for jacky, bob and michael", async () => {
  await withTarget(async (target) => {
    // "At that time, Bob and Michael have already been online."
    const bob = await target.join("bob");
    const michael = await target.join("michael");
    const bobStart = bob.transcript.length;
    const michaelStart = michael.transcript.length;

    // 00:00 Jacky launches his client.
    const jacky = await target.connect({ name: "jacky" });
    await jacky.request("/login jacky 12345", Status.AUTH_OK);
    const port = jacky.listenLb();
    await jacky.request(`/port ${port}`, Status.BUILD_OK);
    await jacky.acceptLb();
    await jacky.request("/list", "301 jacky bob michael");

    // 00:30 jacky -> bob
    await jacky.send("/to bob Hello! Nice to meet you!");
    await bob.lb.expectLine("/from jacky Hello! Nice to meet you!");
    await jacky.expectLine(Status.DELIVERY_OK);

    // 00:40 jacky -> michael
    await jacky.send("/to michael Hi, Michael!");
    await michael.lb.expectLine("/from jacky Hi, Michael!");
    await jacky.expectLine(Status.DELIVERY_OK);

    // 00:49 michael -> jacky
    await michael.send("/to jacky Hi, Jacky!");
    await jacky.lb.expectLine("/from michael Hi, Jacky!");
    await michael.expectLine(Status.DELIVERY_OK);

    // 01:00 jacky -> all
    await jacky.send("/toall How about meeting at 3pm today?");
    await bob.lb.expectLine(
      "/broadcastfrom jacky How about meeting at 3pm today?",
    );
    await michael.lb.expectLine(
      "/broadcastfrom jacky How about meeting at 3pm today?",
    );
    await jacky.expectLine(Status.DELIVERY_OK);

    // 01:09 bob -> jacky
    await bob.send("/to jacky Jacky, nice to meet you too!");
    await jacky.lb.expectLine("/from bob Jacky, nice to meet you too!");
    await bob.expectLine(Status.DELIVERY_OK);

    // 01:29 bob -> all
    await bob.send("/toall OK.");
    await jacky.lb.expectLine("/broadcastfrom bob OK.");
    await michael.lb.expectLine("/broadcastfrom bob OK.");
    await bob.expectLine(Status.DELIVERY_OK);

    // 01:39 michael -> all
    await michael.send("/toall No problem.");
    await jacky.lb.expectLine("/broadcastfrom michael No problem.");
    await bob.lb.expectLine("/broadcastfrom michael No problem.");
    await michael.expectLine(Status.DELIVERY_OK);

    // 01:50 jacky leaves.
    await jacky.request("/exit", Status.BYE);

    // Nobody got anything else so far, on either link.
    assertDrained(jacky, bob, michael);

    assert.deepEqual(
      jacky.transcript,
      transcript(JACKY.replace("/port 30232", `/port ${port}`)),
      "jacky's view",
    );
    assert.deepEqual(bob.transcript.slice(bobStart), transcript(BOB), "bob");
    assert.deepEqual(
      michael.transcript.slice(michaelStart),
      transcript(MICHAEL),
      "michael's view",
    );

    // After 310 the server closes both of jacky's links and drops him.
    await jacky.la.expectClosed();
    await jacky.lb.expectClosed();
    // Nor later: the next line on each of bob's and michael's links is the
    // answer to what they do now.
    assert.deepEqual(await bob.list(), ["bob", "michael"]);
    await expectNothingMoreOnLa(michael);
    await expectNothingMoreOnLb(bob, michael);
    await expectNothingMoreOnLb(michael, bob);
  });
});

Deno.test("appendix: bob and michael see each other and jacky in login order", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const michael = await target.join("michael");
    const jacky = await target.join("jacky");
    await bob.request("/list", "301 bob michael jacky");
    await michael.request("/list", "301 michael bob jacky");
    await jacky.request("/list", "301 jacky bob michael");
  });
});
