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

/** The throttle's limits when none are given. */
export const DEFAULT_LOGIN_THROTTLE: Readonly<Required<LoginThrottleOptions>> =
  {
    freeFailures: 3,
    baseDelayMs: 1_000,
    maxDelayMs: 8_000,
    maxAddresses: 100_000,
    forgetAfterMs: 15 * 60_000,
  };

/** `options` with a default for every limit left out. */
export function throttleSettings(
  options: LoginThrottleOptions = {},
): Required<LoginThrottleOptions> {
  const settings = { ...DEFAULT_LOGIN_THROTTLE };
  for (const key of Object.keys(settings) as (keyof typeof settings)[]) {
    settings[key] = options[key] ?? settings[key];
  }
  return settings;
}

interface FailureRecord {
  failures: number;
  lastFailure: number;
}

/** Counts failed logins per source address and says how long to wait. */
export class LoginThrottle {
  /** The limits in force, defaults filled in. */
  readonly settings: Readonly<Required<LoginThrottleOptions>>;
  // Insertion order is last-failure order: the first entry is the stalest.
  readonly #records = new Map<string, FailureRecord>();

  /** Creates a throttle with the given limits. */
  constructor(options: LoginThrottleOptions = {}) {
    this.settings = throttleSettings(options);
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
    if (this.#records.size > this.settings.maxAddresses) {
      this.#records.delete(this.#records.keys().next().value!);
    }
    const over = record.failures - this.settings.freeFailures;
    if (over <= 0) return 0;
    return Math.min(
      this.settings.baseDelayMs * 2 ** Math.min(over - 1, 30),
      this.settings.maxDelayMs,
    );
  }

  /** Records a successful login: the address starts over. */
  success(address: string): void {
    this.#records.delete(address);
  }

  #forgetStale(now: number): void {
    for (const [address, record] of this.#records) {
      if (now - record.lastFailure < this.settings.forgetAfterMs) break;
      this.#records.delete(address);
    }
  }
}
