/**
 * `Liveness`, one heartbeat per node: a node not heard from for the dead time
 * is taken for dead, and told again while it still holds users; a node heard
 * again is alive. A node judges no one while its own link to NATS is down,
 * nor before it has been connected for a whole dead time, so that coming
 * back from an outage of its own it hears everyone before judging anyone.
 *
 * The clock is the test's: each test moves it and calls `tick` itself.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Liveness } from "../lib/cluster/liveness.ts";
import { pollUntil } from "./support/faults.ts";

const INTERVAL_MS = 1_000;
const DEAD_AFTER_MS = 3_000;

/** A liveness for node `me` on a clock the test moves. */
class Rig {
  now = 0;
  beats = 0;
  /** Nodes holding users, as the presence view would say. */
  holding: string[] = [];
  /** Every `dead <node>` and `alive <node>` told, in order. */
  readonly told: string[] = [];
  readonly liveness: Liveness;

  constructor() {
    this.liveness = new Liveness({
      node: "me",
      channel: { publish: () => this.beats++ },
      known: () => this.holding,
      onDead: (node) => this.told.push(`dead ${node}`),
      onAlive: (node) => this.told.push(`alive ${node}`),
      intervalMs: INTERVAL_MS,
      deadAfterMs: DEAD_AFTER_MS,
      now: () => this.now,
    });
  }

  /** Moves the clock to `at`, then runs one interval. */
  tickAt(at: number): void {
    this.now = at;
    this.liveness.tick();
  }

  /** Hears `nodes` at `at`. */
  hearAt(at: number, ...nodes: string[]): void {
    this.now = at;
    for (const node of nodes) this.liveness.heard(node);
  }

  /** What was told since the last call. */
  take(): string[] {
    return this.told.splice(0);
  }
}

/** A rig connected at time 0, having heard `nodes` then. */
function connected(...nodes: string[]): Rig {
  const rig = new Rig();
  rig.liveness.connected();
  rig.hearAt(0, ...nodes);
  return rig;
}

Deno.test("liveness: a node heard within the dead time is alive; silent for the whole dead time, it is dead", () => {
  const rig = connected("n2");
  rig.hearAt(1_000, "n2");
  rig.tickAt(3_999);
  assert.deepEqual(rig.take(), []);
  assert.equal(rig.liveness.isDead("n2"), false);
  rig.tickAt(4_000);
  assert.deepEqual(rig.take(), ["dead n2"]);
  assert.equal(rig.liveness.isDead("n2"), true);
});

Deno.test("liveness: heartbeats that keep coming keep a node alive for as long as they come", () => {
  const rig = connected("n2");
  for (let at = 1_000; at <= 60_000; at += 1_000) {
    rig.hearAt(at - 500, "n2");
    rig.tickAt(at);
  }
  assert.deepEqual(rig.take(), []);
  assert.equal(rig.liveness.isDead("n2"), false);
});

Deno.test("liveness: a dead node that holds no users is told once", () => {
  const rig = connected("n2");
  for (let at = 3_000; at <= 10_000; at += 1_000) rig.tickAt(at);
  assert.deepEqual(rig.take(), ["dead n2"]);
});

Deno.test("liveness: a dead node is told again every interval while it still holds users, and no more once it holds none", () => {
  const rig = connected("n2");
  rig.holding = ["n2"];
  rig.tickAt(3_000);
  rig.tickAt(4_000);
  rig.tickAt(5_000);
  assert.deepEqual(rig.take(), ["dead n2", "dead n2", "dead n2"]);
  rig.holding = []; // its keys are deleted at last
  rig.tickAt(6_000);
  rig.tickAt(7_000);
  assert.deepEqual(rig.take(), []);
  assert.equal(rig.liveness.isDead("n2"), true);
});

Deno.test("liveness: a dead node heard again is alive and told so once; silent again, it dies again", () => {
  const rig = connected("n2");
  rig.tickAt(3_000);
  assert.deepEqual(rig.take(), ["dead n2"]);
  rig.hearAt(3_500, "n2");
  rig.hearAt(3_600, "n2");
  assert.deepEqual(rig.take(), ["alive n2"]);
  assert.equal(rig.liveness.isDead("n2"), false);
  rig.tickAt(6_599);
  assert.deepEqual(rig.take(), []);
  rig.tickAt(6_600);
  assert.deepEqual(rig.take(), ["dead n2"]);
});

Deno.test("liveness: a node never heard from but holding users is dead once this node has been connected for the dead time", () => {
  const rig = connected();
  rig.holding = ["ghost"];
  rig.tickAt(1_000);
  rig.tickAt(2_999);
  assert.deepEqual(rig.take(), []);
  rig.tickAt(3_000);
  assert.deepEqual(rig.take(), ["dead ghost"]);
});

Deno.test("liveness: a node never judges itself, even holding users and never hearing its own beat", () => {
  const rig = connected("me");
  rig.holding = ["me"];
  for (let at = 1_000; at <= 20_000; at += 1_000) rig.tickAt(at);
  assert.deepEqual(rig.take(), []);
  assert.equal(rig.liveness.isDead("me"), false);
});

Deno.test("liveness: each node is judged on its own heartbeats", () => {
  const rig = connected("n2", "n3", "n4");
  rig.holding = ["n2", "n3", "n4"];
  rig.hearAt(2_000, "n3");
  rig.tickAt(3_000);
  assert.deepEqual(rig.take().sort(), ["dead n2", "dead n4"]);
  assert.equal(rig.liveness.isDead("n3"), false);
  rig.tickAt(5_000);
  assert.deepEqual(rig.take().sort(), ["dead n2", "dead n3", "dead n4"]);
});

Deno.test("liveness: nobody is judged before the link to NATS is up", () => {
  const rig = new Rig();
  rig.hearAt(0, "n2");
  rig.holding = ["n2", "n3"];
  rig.tickAt(10_000);
  rig.tickAt(60_000);
  assert.deepEqual(rig.take(), []);
});

Deno.test("liveness: nobody is judged while the link to NATS is down, however long", () => {
  const rig = connected("n2");
  rig.holding = ["n2"];
  rig.hearAt(1_000, "n2");
  rig.now = 1_500;
  rig.liveness.disconnected();
  for (let at = 2_000; at <= 30_000; at += 1_000) rig.tickAt(at);
  assert.deepEqual(rig.take(), []);
  assert.equal(rig.liveness.isDead("n2"), false);
});

Deno.test("liveness: back after NATS was down longer than the dead time, no node is judged before a whole dead time has passed", () => {
  const rig = connected("n2", "n3");
  rig.holding = ["n2", "n3"];
  rig.now = 500;
  rig.liveness.disconnected();
  rig.tickAt(1_000);
  rig.tickAt(9_000);
  // NATS is back at 10 s: every heartbeat heard is 10 s old.
  rig.now = 10_000;
  rig.liveness.connected();
  rig.tickAt(10_000);
  rig.tickAt(11_000);
  rig.hearAt(11_500, "n2"); // n2 beats again; n3 stays silent
  rig.tickAt(12_000);
  rig.tickAt(12_999);
  assert.deepEqual(rig.take(), []);
  rig.tickAt(13_000);
  assert.deepEqual(rig.take(), ["dead n3"]);
  assert.equal(rig.liveness.isDead("n2"), false);
});

Deno.test("liveness: back after a short outage, nobody is judged within the dead time after reconnecting either", () => {
  const rig = connected("n2");
  rig.now = 2_000;
  rig.liveness.disconnected();
  rig.now = 2_500;
  rig.liveness.connected();
  // n2 has been silent for 3 s at 3 s, but this node came back at 2.5 s.
  rig.tickAt(3_000);
  rig.tickAt(5_499);
  assert.deepEqual(rig.take(), []);
  rig.tickAt(5_500);
  assert.deepEqual(rig.take(), ["dead n2"]);
});

Deno.test("liveness: a node beats on every interval, connected or not", () => {
  const rig = new Rig();
  rig.tickAt(1_000);
  rig.liveness.connected();
  rig.tickAt(2_000);
  rig.liveness.disconnected();
  rig.tickAt(3_000);
  assert.equal(rig.beats, 3);
});

Deno.test("liveness: start beats at once, then every interval until stop", async () => {
  let beats = 0;
  const liveness = new Liveness({
    node: "me",
    channel: { publish: () => beats++ },
    known: () => [],
    onDead: () => {},
    intervalMs: 5,
    deadAfterMs: 1_000,
  });
  liveness.start();
  assert.equal(beats, 1, "no heartbeat at once");
  liveness.start(); // a second start adds no timer
  assert.equal(beats, 1);
  await pollUntil(() => beats >= 4, () => `${beats} heartbeats`);
  // A timer left running after stop fails the test: the op sanitizer sees it.
  liveness.stop();
});
