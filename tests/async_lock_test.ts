/**
 * Unit tests for `AsyncLock`: one holder at a time, waiters served first
 * come first served, and the lock released however the holder ends.
 */

import assert from "node:assert/strict";
import { AsyncLock, type LockHandle } from "../lib/async/async_lock.ts";

/** A promise with its resolve function, to let a task finish on cue. */
function gate(): { promise: Promise<void>; open: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
}

/** Lets every already-queued promise callback run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

Deno.test("AsyncLock: a free lock is taken at once", async () => {
  const lock = new AsyncLock();
  assert.equal(lock.locked, false);
  assert.equal(lock.waiting, 0);
  const handle = await lock.acquire();
  assert.equal(lock.locked, true);
  assert.equal(lock.waiting, 0);
  handle.release();
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: a second acquire waits until the first is released", async () => {
  const lock = new AsyncLock();
  const first = await lock.acquire();
  let secondHeld = false;
  const second = lock.acquire().then((handle) => {
    secondHeld = true;
    return handle;
  });
  await settle();
  assert.equal(secondHeld, false);
  assert.equal(lock.waiting, 1);
  first.release();
  const handle = await second;
  assert.equal(secondHeld, true);
  assert.equal(lock.locked, true, "the lock passes straight to the waiter");
  assert.equal(lock.waiting, 0);
  handle.release();
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: waiters get the lock in the order they asked (FIFO)", async () => {
  const lock = new AsyncLock();
  const order: number[] = [];
  const first = await lock.acquire();
  const tasks = [1, 2, 3, 4, 5].map((n) =>
    lock.run(() => {
      order.push(n);
      assert.equal(lock.locked, true);
    })
  );
  assert.equal(lock.waiting, 5);
  first.release();
  await Promise.all(tasks);
  assert.deepEqual(order, [1, 2, 3, 4, 5]);
  assert.equal(lock.locked, false);
  assert.equal(lock.waiting, 0);
});

Deno.test("AsyncLock: a late arrival does not jump the queue", async () => {
  const lock = new AsyncLock();
  const order: string[] = [];
  const first = await lock.acquire();
  const waiter = lock.run(() => {
    order.push("waiter");
  });
  first.release();
  // Asked right after the release, before the waiter has run: it must queue.
  const late = lock.run(() => {
    order.push("late");
  });
  assert.equal(lock.locked, true);
  assert.equal(lock.waiting, 1, "the late arrival queues");
  await Promise.all([waiter, late]);
  assert.deepEqual(order, ["waiter", "late"]);
});

Deno.test("AsyncLock: only one holder at a time across awaits", async () => {
  const lock = new AsyncLock();
  const gates = [gate(), gate(), gate()];
  const events: string[] = [];
  let inside = 0;
  const tasks = gates.map((g, n) =>
    lock.run(async () => {
      inside++;
      assert.equal(inside, 1, "two holders at once");
      events.push(`start ${n}`);
      await g.promise;
      events.push(`end ${n}`);
      inside--;
    })
  );
  await settle();
  assert.deepEqual(events, ["start 0"]);
  assert.equal(lock.waiting, 2);
  // Opening a later gate first changes nothing: task 1 still waits for 0.
  gates[2].open();
  gates[1].open();
  await settle();
  assert.deepEqual(events, ["start 0"]);
  gates[0].open();
  await Promise.all(tasks);
  assert.deepEqual(events, [
    "start 0",
    "end 0",
    "start 1",
    "end 1",
    "start 2",
    "end 2",
  ]);
});

Deno.test("AsyncLock: run returns the task's value", async () => {
  const lock = new AsyncLock();
  assert.equal(await lock.run(() => 42), 42);
  assert.equal(await lock.run(() => Promise.resolve("done")), "done");
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: run releases the lock when the task throws", async () => {
  const lock = new AsyncLock();
  const failure = new Error("send failed");
  await assert.rejects(
    lock.run(() => {
      throw failure;
    }),
    (error) => error === failure,
  );
  assert.equal(lock.locked, false);
  await assert.rejects(
    lock.run(() => Promise.reject(failure)),
    (error) => error === failure,
  );
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: a throwing holder hands the lock to the next waiter", async () => {
  const lock = new AsyncLock();
  const { promise, open } = gate();
  const failing = lock.run(async () => {
    await promise;
    throw new Error("receiver vanished");
  });
  const next = lock.run(() => "next ran");
  assert.equal(lock.waiting, 1);
  open();
  await assert.rejects(failing, /receiver vanished/);
  assert.equal(await next, "next ran");
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: `using` releases at the end of the block", async () => {
  const lock = new AsyncLock();
  {
    using _held = await lock.acquire();
    assert.equal(lock.locked, true);
  }
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: `using` releases when the block throws", async () => {
  const lock = new AsyncLock();
  const section = async () => {
    using _held = await lock.acquire();
    assert.equal(lock.locked, true);
    throw new Error("inside");
  };
  await assert.rejects(section(), /inside/);
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: releasing twice is harmless", async () => {
  const lock = new AsyncLock();
  const first = await lock.acquire();
  const second = lock.acquire();
  const third = lock.acquire();
  assert.equal(lock.waiting, 2);
  first.release();
  first.release();
  first[Symbol.dispose]();
  const secondHandle = await second;
  // The repeated releases did not take the lock from the second holder,
  // nor hand it on to the third.
  assert.equal(lock.locked, true);
  assert.equal(lock.waiting, 1);
  secondHandle.release();
  const thirdHandle = await third;
  secondHandle.release();
  assert.equal(lock.locked, true);
  assert.equal(lock.waiting, 0);
  thirdHandle.release();
  thirdHandle.release();
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: a release then `using` disposal releases once", async () => {
  const lock = new AsyncLock();
  let waiter: Promise<LockHandle>;
  {
    using held = await lock.acquire();
    waiter = lock.acquire();
    assert.equal(lock.waiting, 1);
    held.release();
  }
  // The waiter got the lock from the explicit release; the disposal at the
  // end of the block did not release the waiter's hold.
  const waiterHandle = await waiter;
  assert.equal(lock.locked, true);
  waiterHandle.release();
  assert.equal(lock.locked, false);
});

Deno.test("AsyncLock: is reusable after many rounds", async () => {
  const lock = new AsyncLock();
  const order: number[] = [];
  const holder = await lock.acquire();
  const tasks = Array.from(
    { length: 3000 },
    (_, n) => lock.run(() => void order.push(n)),
  );
  assert.equal(lock.waiting, 3000);
  holder.release();
  await Promise.all(tasks);
  assert.deepEqual(order, Array.from({ length: 3000 }, (_, n) => n));
  assert.equal(lock.locked, false);
  assert.equal(lock.waiting, 0);
  assert.equal(await lock.run(() => "again"), "again");
});
