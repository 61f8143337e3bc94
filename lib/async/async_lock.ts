/**
 * A first-come, first-served mutual exclusion lock for async code: the
 * counterpart of a thread lock where tasks interleave at `await`.
 *
 * @module
 */

/**
 * An async lock. Waiters get the lock in the order they asked for it; a
 * release hands it straight to the next waiter, so nobody can jump the queue.
 *
 * @example
 * ```ts
 * import { AsyncLock } from "./async_lock.ts";
 *
 * const lock = new AsyncLock();
 * {
 *   using _held = await lock.acquire();
 *   // exclusive section; released at the end of the block, even on throw
 * }
 * ```
 */
export class AsyncLock {
  #held = false;
  #waiters: (() => void)[] = [];
  #head = 0;

  /** Whether some task holds the lock. */
  get locked(): boolean {
    return this.#held;
  }

  /** How many tasks are waiting for the lock. */
  get waiting(): number {
    return this.#waiters.length - this.#head;
  }

  /**
   * Waits for the lock. The returned handle releases it when disposed (with
   * `using`) or when its `release` is called; releasing twice is harmless.
   */
  async acquire(): Promise<LockHandle> {
    if (this.#held) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    } else {
      this.#held = true;
    }
    return new LockHandle(() => this.#release());
  }

  /** Runs `task` while holding the lock, and releases it however it ends. */
  async run<T>(task: () => Promise<T> | T): Promise<T> {
    using _held = await this.acquire();
    return await task();
  }

  #release(): void {
    if (this.#head === this.#waiters.length) {
      this.#held = false;
      return;
    }
    const next = this.#waiters[this.#head];
    this.#head++;
    if (this.#head === this.#waiters.length) {
      this.#waiters = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
      this.#waiters = this.#waiters.slice(this.#head);
      this.#head = 0;
    }
    // The lock stays held: it passes directly to the next waiter.
    next();
  }
}

/** Proof of holding an {@linkcode AsyncLock}; release it once. */
export class LockHandle implements Disposable {
  #release: (() => void) | undefined;

  /** Wraps the function that releases the lock. */
  constructor(release: () => void) {
    this.#release = release;
  }

  /** Releases the lock; later calls do nothing. */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /** Releases the lock at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.release();
  }
}
