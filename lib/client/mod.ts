/**
 * The instant-messaging client: a session runnable in-process, the contract
 * for its user interface, and the lines a user types.
 *
 * @module
 */

export * from "./input.ts";
export * from "./session.ts";
export * from "./ui.ts";
