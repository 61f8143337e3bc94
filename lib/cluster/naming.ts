/**
 * The names a cluster uses in NATS: the presence bucket and its keys, and
 * the subjects nodes talk on. User names may hold any character but a space,
 * so they travel hex-encoded; node names are restricted to what a subject
 * token may hold.
 *
 * @module
 */

/** The key-value bucket that holds who is online, and where. */
export const PRESENCE_BUCKET = "chat_presence";
/** The key, in the presence bucket, holding the users file's fingerprint. */
export const USERS_FILE_KEY = "users-file";
/** The subject every node publishes its heartbeat on. */
export const HEARTBEAT_SUBJECT = "chat.heartbeat";

const USER_PREFIX = "u.";
const NODE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** What a node answers on its own subjects. */
export type NodeVerb = "to" | "toall" | "ping";

/**
 * The presence key of user `name`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameOfKey, userKey } from "./naming.ts";
 *
 * assert.equal(userKey("bob"), "u.626f62");
 * assert.equal(nameOfKey("u.626f62"), "bob");
 * ```
 */
export function userKey(name: string): string {
  let hex = USER_PREFIX;
  for (const byte of encoder.encode(name)) {
    hex += byte.toString(16).padStart(2, "0");
  }
  return hex;
}

/** The user name a presence key stands for, or `undefined` if none. */
export function nameOfKey(key: string): string | undefined {
  const hex = key.slice(USER_PREFIX.length);
  if (!key.startsWith(USER_PREFIX) || !/^(?:[0-9a-f]{2})+$/.test(hex)) {
    return undefined;
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The subject node `node` answers `verb` requests on. */
export function nodeSubject(node: string, verb: NodeVerb): string {
  return `chat.node.${node}.${verb}`;
}

/** Whether `name` can name a node: letters, digits, `_` and `-`. */
export function isNodeName(name: string): boolean {
  return NODE_NAME.test(name);
}

/** A node name unique to this process: `node-<pid>-<random>`. */
export function defaultNodeName(): string {
  const random = crypto.getRandomValues(new Uint8Array(3));
  const suffix = [...random].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `node-${Deno.pid}-${suffix}`;
}
