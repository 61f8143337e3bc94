/**
 * `Authenticator`: passwords plain or hashed, unknown users checked against
 * a decoy, and refusals slowed down per address (`docs/reliability.md`:
 * after the free failures each refusal waits longer, doubling to a cap; a
 * success starts the address over; nobody else waits), here with tiny
 * delays.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Authenticator } from "../lib/server/auth.ts";
import { hashPassword } from "../lib/server/credentials.ts";
import type { LoginThrottleOptions } from "../lib/server/login_throttle.ts";
import { recordingLog, within } from "./support/server_parts.ts";

/** Cheap enough for a test, yet far slower than comparing plain text. */
const COST = 4096;
const JACKY = { address: "192.0.2.1", peer: "192.0.2.1:40000" };
const BOB = { address: "192.0.2.2", peer: "192.0.2.2:40000" };
const THROTTLE: LoginThrottleOptions = {
  freeFailures: 2,
  baseDelayMs: 10,
  maxDelayMs: 40,
};

function authenticator(
  users: ReadonlyMap<string, string>,
  throttle: LoginThrottleOptions | false = false,
  signal: AbortSignal = new AbortController().signal,
) {
  const { log, events } = recordingLog();
  return { auth: new Authenticator(users, { throttle, log, signal }), events };
}

/** How long `check` takes, the fastest of three runs, in milliseconds. */
async function fastest(check: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    await check();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

Deno.test("auth: a plain password matches exactly", async () => {
  const { auth } = authenticator(new Map([["jacky", "12345"]]));
  assert.equal(await auth.verify("jacky", "12345"), true);
  for (const wrong of ["1234", "123456", "12346", "", " 12345"]) {
    assert.equal(await auth.verify("jacky", wrong), false, wrong);
  }
  assert.equal(await auth.verify("Jacky", "12345"), false);
});

Deno.test("auth: a hashed password matches the password it was made from", async () => {
  const users = new Map([[
    "bob",
    await hashPassword("bob-pw", { cost: COST }),
  ]]);
  const { auth } = authenticator(users);
  assert.equal(await auth.verify("bob", "bob-pw"), true);
  assert.equal(await auth.verify("bob", "bob-pW"), false);
  assert.equal(await auth.verify("bob", users.get("bob")!), false);
});

Deno.test("auth: an unknown user is refused, even with the password of the hash used as decoy", async () => {
  const users = new Map([
    ["jacky", "12345"],
    ["bob", await hashPassword("bob-pw", { cost: COST })],
  ]);
  const { auth } = authenticator(users);
  for (const password of ["bob-pw", "12345", ""]) {
    assert.equal(await auth.verify("ghost", password), false, password);
  }
});

Deno.test("auth: an unknown user is refused with plain passwords only, even with an empty password", async () => {
  const { auth } = authenticator(new Map([["jacky", "12345"]]));
  assert.equal(await auth.verify("ghost", ""), false);
  assert.equal(await auth.verify("ghost", "12345"), false);
  assert.equal(await auth.verify("", ""), false);
});

Deno.test("auth: checking an unknown user does the work of a hashed one (a decoy), not a quick refusal", async () => {
  const users = new Map([[
    "bob",
    await hashPassword("bob-pw", { cost: COST }),
  ]]);
  const { auth } = authenticator(users);
  const known = await fastest(() => auth.verify("bob", "wrong"));
  const unknown = await fastest(() => auth.verify("ghost", "wrong"));
  // A refusal without the decoy is a thousand times quicker; the margin
  // leaves room for a busy machine.
  assert.ok(
    unknown >= known / 4,
    `unknown user checked in ${unknown.toFixed(2)} ms, ` +
      `a known one in ${known.toFixed(2)} ms`,
  );
});

Deno.test("auth: refusals from one address are free at first, then wait longer each time, doubling to the cap", async () => {
  const { auth, events } = authenticator(new Map(), THROTTLE);
  const waited: number[] = [];
  for (let attempt = 0; attempt < 6; attempt++) {
    const started = performance.now();
    await within(auth.refused(JACKY, "wrong user name or password"), "refusal");
    waited.push(performance.now() - started);
  }
  const delays = events.map((event) => event.ms);
  assert.deepEqual(delays, [0, 0, 10, 20, 40, 40]);
  for (const [attempt, ms] of waited.entries()) {
    // Timers may fire a hair early.
    assert.ok(ms >= delays[attempt]! - 2, `refusal ${attempt}: ${ms} ms`);
  }
  assert.equal(auth.delaying, 0);
});

Deno.test("auth: each refusal is logged with the address and why", async () => {
  const { auth, events } = authenticator(new Map(), THROTTLE);
  await auth.refused(JACKY, "wrong user name or password");
  assert.equal(events.length, 1);
  assert.equal(events[0].event, "login-failed");
  assert.equal(events[0].peer, JACKY.peer);
  assert.equal(events[0].cause, "wrong user name or password");
});

Deno.test("auth: a success starts the address over", async () => {
  const { auth, events } = authenticator(new Map(), THROTTLE);
  for (let attempt = 0; attempt < 3; attempt++) {
    await auth.refused(JACKY, "wrong");
  }
  auth.succeeded(JACKY);
  await auth.refused(JACKY, "wrong");
  assert.deepEqual(events.map((event) => event.ms), [0, 0, 10, 0]);
});

Deno.test("auth: addresses are throttled apart; one being delayed holds up nobody else", async () => {
  const slow = { ...THROTTLE, baseDelayMs: 60_000, maxDelayMs: 60_000 };
  const shutdown = new AbortController();
  const { auth, events } = authenticator(new Map(), slow, shutdown.signal);
  await auth.refused(JACKY, "wrong");
  await auth.refused(JACKY, "wrong");
  const delayed = auth.refused(JACKY, "wrong");
  assert.equal(auth.delaying, 1);
  await within(auth.refused(BOB, "wrong"), "bob's refusal", 500);
  assert.equal(events.at(-1)?.ms, 0);
  shutdown.abort();
  await within(delayed, "the delayed refusal, at shutdown");
});

Deno.test("auth: shutting down cuts a delayed refusal short", async () => {
  const slow = { freeFailures: 0, baseDelayMs: 60_000, maxDelayMs: 60_000 };
  const shutdown = new AbortController();
  const { auth } = authenticator(new Map(), slow, shutdown.signal);
  const delayed = auth.refused(JACKY, "wrong");
  assert.equal(auth.delaying, 1);
  shutdown.abort();
  await within(delayed, "the delayed refusal", 500);
  assert.equal(auth.delaying, 0);
  // Once shut down, a refusal is answered at once.
  await within(auth.refused(JACKY, "wrong"), "a refusal after shutdown", 500);
  assert.equal(auth.delaying, 0);
});

Deno.test("auth: with the throttle off no refusal waits", async () => {
  const { auth, events } = authenticator(new Map(), false);
  for (let attempt = 0; attempt < 10; attempt++) {
    await within(auth.refused(JACKY, "wrong"), "refusal", 500);
  }
  assert.deepEqual(events.map((event) => event.ms), Array(10).fill(0));
});
