/**
 * Concurrency tools: the async lock that guards each receiver's link, many
 * timeouts behind one timer, and an abortable pause.
 *
 * @module
 */

export * from "./async_lock.ts";
export * from "./delay.ts";
export * from "./timeout_queue.ts";
