/**
 * A node's view of who is online in the whole cluster, kept current by
 * watching the presence bucket: each user's node and login, in cluster-wide
 * login order (the bucket's revision of the login).
 *
 * @module
 */

/** Where one user is logged in. */
export interface Presence {
  /** The node the user is on. */
  readonly node: string;
  /** The login's token, unique to that login. */
  readonly session: string;
  /** The bucket revision of the login: its place in the login order. */
  readonly revision: number;
}

/** Told of each change: the user's presence now, `undefined` if gone. */
export type PresenceListener = (
  name: string,
  presence: Presence | undefined,
) => void;

/**
 * Who is online in the cluster, in login order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PresenceView } from "./presence.ts";
 *
 * const view = new PresenceView();
 * view.put("bob", "a", "t1", 4);
 * view.put("michael", "b", "t2", 7);
 * assert.deepEqual([...view.names()], ["bob", "michael"]);
 * view.remove("bob", 9);
 * assert.deepEqual(view.nodes(), new Map([["b", 1]]));
 * ```
 */
export class PresenceView {
  /** Told of every change, after it is made. */
  onChange: PresenceListener | undefined;
  // A map keeps insertion order: entries arrive in revision order, so it is
  // the login order.
  readonly #users = new Map<string, Presence>();
  readonly #perNode = new Map<string, number>();
  // Node names repeat for every user: one string each.
  readonly #nodeNames = new Map<string, string>();
  // The revision of each name's delete marker: a new login of the name
  // expects it as the key's last revision.
  readonly #deletedAt = new Map<string, number>();
  #revision = 0;
  #waiters: { revision: number; resolve: () => void }[] = [];

  /** The highest bucket revision seen. */
  get revision(): number {
    return this.#revision;
  }

  /** How many users are online. */
  get size(): number {
    return this.#users.size;
  }

  /** Where `name` is online, if anywhere. */
  get(name: string): Presence | undefined {
    return this.#users.get(name);
  }

  /** Every online user's name, in login order. */
  names(): IterableIterator<string> {
    return this.#users.keys();
  }

  /** Every online user, in login order. */
  entries(): IterableIterator<[string, Presence]> {
    return this.#users.entries();
  }

  /** How many users each node has online. */
  nodes(): ReadonlyMap<string, number> {
    return this.#perNode;
  }

  /** The revision at which `name` was last seen leaving, if it was. */
  deletedAt(name: string): number | undefined {
    return this.#deletedAt.get(name);
  }

  /** Records a login of `name` on `node` at `revision`. */
  put(name: string, node: string, session: string, revision: number): void {
    const interned = this.#intern(node);
    this.#unlist(name);
    this.#deletedAt.delete(name);
    const presence = { node: interned, session, revision };
    this.#users.set(name, presence);
    this.#perNode.set(interned, (this.#perNode.get(interned) ?? 0) + 1);
    this.#advance(revision);
    this.onChange?.(name, presence);
  }

  /** Records that `name` left, at `revision`. */
  remove(name: string, revision: number): void {
    const was = this.#unlist(name);
    this.#deletedAt.set(name, revision);
    this.#advance(revision);
    if (was !== undefined) this.onChange?.(name, undefined);
  }

  /** Records a change at `revision` to something other than a user. */
  seen(revision: number): void {
    this.#advance(revision);
  }

  /** Forgets everything: the bucket was lost and starts over. */
  clear(): void {
    this.#users.clear();
    this.#perNode.clear();
    this.#deletedAt.clear();
    this.#revision = 0;
  }

  /**
   * Resolves to true once a change at `revision` or later has been seen, or
   * to false after `timeoutMs`.
   */
  waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.#revision >= revision) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #unlist(name: string): Presence | undefined {
    const was = this.#users.get(name);
    if (was === undefined) return undefined;
    this.#users.delete(name);
    const count = (this.#perNode.get(was.node) ?? 1) - 1;
    if (count === 0) this.#perNode.delete(was.node);
    else this.#perNode.set(was.node, count);
    return was;
  }

  #intern(node: string): string {
    const known = this.#nodeNames.get(node);
    if (known !== undefined) return known;
    this.#nodeNames.set(node, node);
    return node;
  }

  #advance(revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    if (this.#waiters.length === 0) return;
    const due = this.#waiters.filter((w) => w.revision <= revision);
    this.#waiters = this.#waiters.filter((w) => w.revision > revision);
    for (const waiter of due) waiter.resolve();
  }
}
