/**
 * A small seeded pseudo-random generator (mulberry32) for tests whose runs
 * must replay from a printed seed.
 *
 * @module
 */

/** Pseudo-random numbers from a 32-bit seed; the same seed, the same run. */
export class SeededRandom {
  /** The seed this generator started from. */
  readonly seed: number;
  #state: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/**
 * The seed from environment variable `name` if set (so a failure can be
 * replayed), else a fresh one.
 */
export function seedFromEnv(name: string): number {
  const text = Deno.env.get(name);
  if (text !== undefined && text !== "") {
    const seed = Number(text);
    if (!Number.isInteger(seed)) throw new Error(`${name} must be an integer`);
    return seed >>> 0;
  }
  return crypto.getRandomValues(new Uint32Array(1))[0];
}
