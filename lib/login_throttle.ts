/**
 * Slows down password guessing: after three failed logins in a row from one
 * address, each further failure's answer is delayed, 1 s, then 2 s, 4 s and
 * at most 8 s. A success from the address starts it over.
 *
 * @module
 */

/** Options for {@linkcode LoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failures in a row answered without delay. Default 3. */
  freeFailures?: number;
  /** The first delay, doubled for each further failure. Default 1,000 ms. */
  baseDelayMs?: number;
  /** The longest delay. Default 8,000 ms. */
  maxDelayMs?: number;
  /** Addresses remembered at most; the stalest is forgotten first. */
  maxAddresses?: number;
  /** A record idle this long is forgotten. Default 15 minutes. */
  forgetAfterMs?: number;
}

interface FailureRecord {
  failures: number;
  lastFailure: number;
}

/** Counts failed logins per source address and says how long to wait. */
export class LoginThrottle {
  readonly #free: number;
  readonly #base: number;
  readonly #max: number;
  readonly #maxAddresses: number;
  readonly #forgetAfter: number;
  // Insertion order is last-failure order: the first entry is the stalest.
  readonly #records = new Map<string, FailureRecord>();

  /** Creates a throttle with the given limits. */
  constructor(options: LoginThrottleOptions = {}) {
    this.#free = options.freeFailures ?? 3;
    this.#base = options.baseDelayMs ?? 1_000;
    this.#max = options.maxDelayMs ?? 8_000;
    this.#maxAddresses = options.maxAddresses ?? 100_000;
    this.#forgetAfter = options.forgetAfterMs ?? 15 * 60_000;
  }

  /** Addresses with failures on record. */
  get size(): number {
    return this.#records.size;
  }

  /**
   * Records a failed login from `address` and returns how long to wait
   * before answering it, in milliseconds.
   */
  failure(address: string): number {
    const now = performance.now();
    this.#forgetStale(now);
    const record = this.#records.get(address) ??
      { failures: 0, lastFailure: 0 };
    this.#records.delete(address);
    record.failures++;
    record.lastFailure = now;
    this.#records.set(address, record);
    if (this.#records.size > this.#maxAddresses) {
      this.#records.delete(this.#records.keys().next().value!);
    }
    const over = record.failures - this.#free;
    if (over <= 0) return 0;
    return Math.min(this.#base * 2 ** Math.min(over - 1, 30), this.#max);
  }

  /** Records a successful login: the address starts over. */
  success(address: string): void {
    this.#records.delete(address);
  }

  #forgetStale(now: number): void {
    for (const [address, record] of this.#records) {
      if (now - record.lastFailure < this.#forgetAfter) break;
      this.#records.delete(address);
    }
  }
}
