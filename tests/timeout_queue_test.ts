import assert from "node:assert/strict";
import { TimeoutQueue } from "../lib/async/timeout_queue.ts";

/** Resolves when `fired` has `count` entries, or rejects after `ms`. */
function waitFor(fired: string[], count: number, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = setInterval(() => {
      if (fired.length >= count) {
        clearInterval(poll);
        resolve();
      } else if (performance.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`only ${fired.length} of ${count} fired`));
      }
    }, 5);
  });
}

Deno.test("TimeoutQueue: entries fire in the order added, after the delay", async () => {
  const queue = new TimeoutQueue(30);
  const fired: string[] = [];
  const started = performance.now();
  queue.add(() => fired.push("a"));
  queue.add(() => fired.push("b"));
  assert.equal(queue.size, 2);
  await waitFor(fired, 2);
  assert.ok(performance.now() - started >= 29);
  assert.deepEqual(fired, ["a", "b"]);
  assert.equal(queue.size, 0);
  queue.close();
});

Deno.test("TimeoutQueue: a cancelled entry never fires, the others still do", async () => {
  const queue = new TimeoutQueue(20);
  const fired: string[] = [];
  const first = queue.add(() => fired.push("first"));
  queue.add(() => fired.push("second"));
  const third = queue.add(() => fired.push("third"));
  first.cancel();
  third.cancel();
  third.cancel();
  assert.equal(queue.size, 1);
  await waitFor(fired, 1);
  assert.deepEqual(fired, ["second"]);
  queue.close();
});

Deno.test("TimeoutQueue: with every entry cancelled, the timer stops by itself", async () => {
  // The test sanitizer fails this test if a timer is left running.
  const queue = new TimeoutQueue(20);
  const entry = queue.add(() => assert.fail("fired"));
  entry.cancel();
  assert.equal(queue.size, 0);
  // Long enough for the timer to come due, find nothing, and stop.
  await new Promise((resolve) => setTimeout(resolve, 60));
});

Deno.test("TimeoutQueue: entries added later wait their own full delay", async () => {
  const queue = new TimeoutQueue(40);
  const fired: string[] = [];
  const early = queue.add(() => fired.push("early"));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const lateAdded = performance.now();
  let lateFiredAfter = 0;
  queue.add(() => {
    lateFiredAfter = performance.now() - lateAdded;
    fired.push("late");
  });
  early.cancel();
  await waitFor(fired, 1);
  assert.deepEqual(fired, ["late"]);
  assert.ok(lateFiredAfter >= 39, `fired after ${lateFiredAfter} ms`);
  queue.close();
});

Deno.test("TimeoutQueue: an entry added from a callback fires too", async () => {
  const queue = new TimeoutQueue(10);
  const fired: string[] = [];
  queue.add(() => {
    fired.push("one");
    queue.add(() => fired.push("two"));
  });
  await waitFor(fired, 2);
  assert.deepEqual(fired, ["one", "two"]);
  queue.close();
});

Deno.test("TimeoutQueue: close drops every entry without firing", () => {
  const queue = new TimeoutQueue(10);
  queue.add(() => assert.fail("fired"));
  queue.add(() => assert.fail("fired"));
  queue.close();
  assert.equal(queue.size, 0);
});
