import assert from "node:assert/strict";
import { LoginThrottle } from "../lib/server/login_throttle.ts";

Deno.test("LoginThrottle: three free failures, then 1 s, 2 s, 4 s, capped at 8 s", () => {
  const throttle = new LoginThrottle();
  const delays = Array.from({ length: 9 }, () => throttle.failure("10.0.0.1"));
  assert.deepEqual(delays, [0, 0, 0, 1000, 2000, 4000, 8000, 8000, 8000]);
});

Deno.test("LoginThrottle: a success starts the address over", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 5; i++) throttle.failure("10.0.0.1");
  throttle.success("10.0.0.1");
  assert.equal(throttle.failure("10.0.0.1"), 0);
  assert.equal(throttle.size, 1);
});

Deno.test("LoginThrottle: addresses are counted apart", () => {
  const throttle = new LoginThrottle();
  for (let i = 0; i < 4; i++) throttle.failure("10.0.0.1");
  assert.equal(throttle.failure("10.0.0.2"), 0);
  assert.equal(throttle.failure("10.0.0.1"), 2000);
});

Deno.test("LoginThrottle: options set the free failures and delays", () => {
  const throttle = new LoginThrottle({
    freeFailures: 1,
    baseDelayMs: 10,
    maxDelayMs: 25,
  });
  const delays = Array.from({ length: 5 }, () => throttle.failure("a"));
  assert.deepEqual(delays, [0, 10, 20, 25, 25]);
});

Deno.test("LoginThrottle: memory is bounded by maxAddresses, stalest first", () => {
  const throttle = new LoginThrottle({ maxAddresses: 2 });
  for (let i = 0; i < 4; i++) throttle.failure("old");
  throttle.failure("b");
  throttle.failure("c");
  assert.equal(throttle.size, 2);
  // "old" was forgotten, so it starts from its first failure again.
  assert.equal(throttle.failure("old"), 0);
});

Deno.test("LoginThrottle: records idle past forgetAfterMs are forgotten", () => {
  const throttle = new LoginThrottle({ forgetAfterMs: 0 });
  for (let i = 0; i < 5; i++) assert.equal(throttle.failure("a"), 0);
});
