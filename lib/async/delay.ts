/**
 * A pause that a shutdown can cut short.
 *
 * @module
 */

/** Options for {@linkcode delay}. */
export interface DelayOptions {
  /** Ends the pause early when it aborts. */
  signal?: AbortSignal;
}

/**
 * Resolves after `ms` milliseconds, or at once when `signal` aborts. It never
 * rejects: a pause cut short is still over.
 *
 * @example
 * ```ts
 * import { delay } from "./delay.ts";
 *
 * const stop = new AbortController();
 * const paused = delay(60_000, { signal: stop.signal });
 * stop.abort();
 * await paused; // at once
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
