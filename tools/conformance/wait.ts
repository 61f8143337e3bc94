/**
 * Bounded waits: every wait of the kit ends, at the latest, when its own
 * deadline passes or when the check's time runs out.
 *
 * @module
 */

import { delay } from "../../lib/async/delay.ts";

/** What a bounded wait resolves to when nothing came in time. */
export const SILENCE: unique symbol = Symbol("silence");

/**
 * `promise`'s value, or {@linkcode SILENCE} once `ms` have passed or `signal`
 * has aborted, whichever comes first. A rejection of `promise` is passed on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SILENCE, within } from "./wait.ts";
 *
 * assert.equal(await within(Promise.resolve(1), 1000), 1);
 * assert.equal(await within(new Promise(() => {}), 10), SILENCE);
 * ```
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<T | typeof SILENCE> {
  const settled = new AbortController();
  const stop = signal
    ? AbortSignal.any([signal, settled.signal])
    : settled.signal;
  try {
    return await Promise.race([
      promise,
      delay(ms, { signal: stop }).then((): typeof SILENCE => SILENCE),
    ]);
  } finally {
    settled.abort();
  }
}

/** `ms` as people say it: `5 s`, `300 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 && ms % 100 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
