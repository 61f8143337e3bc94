/**
 * Who is online: one name at a time, in the order they logged in.
 *
 * {@linkcode Registry} is the seam a cluster replaces: a single server keeps
 * its list in memory ({@linkcode LocalRegistry}); a cluster node keeps it
 * with the other nodes.
 *
 * @module
 */

import type { Inbox } from "./inbox.ts";

/** The online list, as a session and the delivery see it. */
export interface Registry {
  /**
   * Puts the inbox's user on the list, unless the name is already there;
   * resolves to whether it was put there. Rejects only on a fault.
   */
  claim(inbox: Inbox): Promise<boolean>;
  /**
   * Takes the inbox's user off the list, if this inbox is the one listed;
   * resolves once every server sees it so. Never rejects.
   */
  release(inbox: Inbox): Promise<void>;
  /**
   * The names for `/list`: `requester` first, then everyone else online in
   * the order they logged in.
   */
  namesFor(requester: string): string[];
  /** The inbox of `name` if that user is online on this server. */
  local(name: string): Inbox | undefined;
  /** The inboxes of the users online on this server, in login order. */
  locals(): Iterable<Inbox>;
  /** How many users are online on this server. */
  readonly size: number;
}

/**
 * The online list of a single server, in memory: a map in login order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Inbox } from "./inbox.ts";
 * import { LocalRegistry } from "./registry.ts";
 *
 * const registry = new LocalRegistry();
 * const owner = { drop() {}, chatLinkEnded() {} };
 * assert.equal(await registry.claim(new Inbox("bob", owner)), true);
 * assert.equal(await registry.claim(new Inbox("jacky", owner)), true);
 * assert.equal(await registry.claim(new Inbox("bob", owner)), false);
 * assert.deepEqual(registry.namesFor("jacky"), ["jacky", "bob"]);
 * ```
 */
export class LocalRegistry implements Registry {
  readonly #online = new Map<string, Inbox>();

  /** How many users are online. */
  get size(): number {
    return this.#online.size;
  }

  /** Lists the user unless the name is taken. */
  claim(inbox: Inbox): Promise<boolean> {
    if (this.#online.has(inbox.name)) return Promise.resolve(false);
    this.#online.set(inbox.name, inbox);
    return Promise.resolve(true);
  }

  /** Unlists the user if `inbox` is the one listed. */
  release(inbox: Inbox): Promise<void> {
    if (this.#online.get(inbox.name) === inbox) {
      this.#online.delete(inbox.name);
    }
    return Promise.resolve();
  }

  /** `requester` first, then the others in login order. */
  namesFor(requester: string): string[] {
    const names = [requester];
    for (const name of this.#online.keys()) {
      if (name !== requester) names.push(name);
    }
    return names;
  }

  /** The inbox of `name`, if online. */
  local(name: string): Inbox | undefined {
    return this.#online.get(name);
  }

  /** Every online user's inbox, in login order. */
  locals(): Iterable<Inbox> {
    return this.#online.values();
  }
}
