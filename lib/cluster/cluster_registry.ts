/**
 * The online list of a cluster node. A name is claimed by creating its key
 * in the presence bucket, which refuses a key that exists, so exactly one
 * login wins a race between nodes. The list itself comes from the
 * {@linkcode PresenceView}, the same on every node.
 *
 * The node also keeps the bucket honest about itself, whenever the view
 * changes:
 * - its user's key deleted by another node (which took this node for dead):
 *   the node claims the name again; if someone else has it by then, the
 *   local session is closed;
 * - its user's name now held by another node: the local session is closed;
 * - a key naming this node for a login it does not hold (a create whose
 *   outcome was unknown, or a previous run under the same node name): the key
 *   is deleted.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import type { Inbox } from "../server/inbox.ts";
import type { EventLog } from "../server/log.ts";
import type { Registry } from "../server/registry.ts";
import { userKey } from "./naming.ts";
import type { Presence, PresenceView } from "./presence.ts";

/** The presence bucket, as the registry uses it. */
export interface PresenceStore {
  /**
   * Creates `key` unless it exists; the new revision, or `undefined` if the
   * key exists. `deletedAt` is the revision of the key's delete marker, if
   * known: a create that expects it needs one round trip. Rejects on a
   * fault: the key may or may not have been made.
   */
  create(
    key: string,
    value: string,
    deletedAt?: number,
  ): Promise<number | undefined>;
  /**
   * Deletes `key` if its revision is still `revision`; false if it is not.
   * Rejects on a fault.
   */
  delete(key: string, revision: number): Promise<boolean>;
}

/** What a {@linkcode ClusterRegistry} works with. */
export interface ClusterRegistryOptions {
  /** This node's name. */
  node: string;
  /** The presence bucket. */
  store: PresenceStore;
  /** The cluster's online list, kept by the bucket's watcher. */
  view: PresenceView;
  /** Where conflicts and faults are logged. */
  log: EventLog;
}

interface Login {
  readonly inbox: Inbox;
  readonly session: string;
  revision: number;
}

// How long a login waits for its own key to reach the view, so that a `/list`
// right after `101` on this node shows the user.
const VIEW_WAIT_MS = 1_000;

/** The online list of one node of a cluster. */
export class ClusterRegistry implements Registry {
  readonly #node: string;
  readonly #store: PresenceStore;
  readonly #view: PresenceView;
  readonly #log: EventLog;
  /** This node's users, in the order they logged in here. */
  readonly #logins = new Map<string, Login>();
  /** Tokens of logins whose key is being created. */
  readonly #claiming = new Set<string>();
  /** Names being claimed again after another node deleted them. */
  readonly #reclaiming = new Set<string>();
  /** Keys still to delete (a fault stopped it), with their revisions. */
  readonly #unreleased = new Map<string, number>();
  readonly #writes = new Set<Promise<void>>();

  /** A registry for `options.node`; it follows `options.view` from now on. */
  constructor(options: ClusterRegistryOptions) {
    this.#node = options.node;
    this.#store = options.store;
    this.#view = options.view;
    this.#log = options.log;
    this.#view.onChange = (name, presence) => this.#reconcile(name, presence);
  }

  /** Users online on this node. */
  get size(): number {
    return this.#logins.size;
  }

  /**
   * Claims the name in the bucket. Rejects when the bucket cannot be
   * reached: uniqueness cannot be checked, so the login is refused.
   */
  async claim(inbox: Inbox): Promise<boolean> {
    const { name } = inbox;
    const session = newSessionToken();
    this.#claiming.add(session);
    let revision: number | undefined;
    try {
      revision = await this.#store.create(
        userKey(name),
        `${this.#node} ${session}`,
        this.#view.deletedAt(name),
      );
    } catch (error) {
      // The outcome is unknown. If the key is already in view, it is known
      // after all: it must go. If it shows up later, reconciling deletes it.
      this.#claiming.delete(session);
      const seen = this.#view.get(name);
      if (seen?.node === this.#node && seen.session === session) {
        this.#deleteKey(name, seen.revision);
      }
      throw error;
    }
    this.#claiming.delete(session);
    if (revision === undefined) return false;
    const login = { inbox, session, revision };
    this.#logins.set(name, login);
    // What the view saw while the create's answer was on its way was
    // reconciled with no login to check: check now. A key deleted since
    // (another node took this one for dead) or held by another node means
    // this login does not hold the name.
    await this.#view.waitFor(revision, VIEW_WAIT_MS);
    if (this.#logins.get(name) !== login) return false;
    const seen = this.#view.get(name);
    if (this.#view.revision >= revision && seen?.session !== session) {
      this.#logins.delete(name);
      return false;
    }
    return true;
  }

  /**
   * Deletes the user's key; resolves once deleted, or once it is known that
   * it cannot be for now (it is tried again on the next resync).
   */
  release(inbox: Inbox): Promise<void> {
    const login = this.#logins.get(inbox.name);
    if (login?.inbox !== inbox) return Promise.resolve();
    this.#logins.delete(inbox.name);
    return this.#deleteKey(inbox.name, login.revision);
  }

  /** `requester` first, then everyone online in the cluster, login order. */
  namesFor(requester: string): string[] {
    const names = [requester];
    for (const name of this.#view.names()) {
      if (name !== requester) names.push(name);
    }
    return names;
  }

  /** The inbox of `name` if the user is on this node. */
  local(name: string): Inbox | undefined {
    return this.#logins.get(name)?.inbox;
  }

  /** The inboxes of this node's users. */
  *locals(): IterableIterator<Inbox> {
    for (const login of this.#logins.values()) yield login.inbox;
  }

  /**
   * Deletes every key that names `node`: it is dead, and its users must be
   * free to log in elsewhere.
   */
  purgeNode(node: string): void {
    for (const [name, presence] of this.#view.entries()) {
      if (presence.node === node) {
        this.#track(
          this.#store.delete(userKey(name), presence.revision).then(
            () => {},
            () => {},
          ),
        );
      }
    }
  }

  /**
   * After the bucket was unreachable or `lost`: deletes what could not be
   * deleted (unless the bucket is a new one, without those keys), and makes
   * sure every local user holds its key.
   */
  resync(lost = false): void {
    if (lost) this.#unreleased.clear();
    for (const [name, revision] of this.#unreleased) {
      this.#deleteKey(name, revision);
    }
    for (const [name, login] of this.#logins) {
      this.#reconcile(name, this.#view.get(name), login);
    }
    for (const [name, presence] of this.#view.entries()) {
      if (presence.node === this.#node && !this.#logins.has(name)) {
        this.#reconcile(name, presence, undefined);
      }
    }
  }

  /** Resolves once the bucket writes under way have ended. */
  async settle(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes);
  }

  #reconcile(
    name: string,
    presence: Presence | undefined,
    login: Login | undefined = this.#logins.get(name),
  ): void {
    if (presence === undefined) {
      // Deleted by another node that took this one for dead.
      if (login !== undefined) this.#reclaim(name, login);
      return;
    }
    if (presence.node === this.#node) {
      if (login?.session === presence.session) {
        login.revision = presence.revision;
      } else if (!this.#claiming.has(presence.session)) {
        // A login this node does not hold.
        this.#deleteKey(name, presence.revision);
      }
      return;
    }
    if (login !== undefined) this.#yield(name, login, presence.node);
  }

  #reclaim(name: string, login: Login): void {
    if (this.#reclaiming.has(name)) return;
    this.#reclaiming.add(name);
    this.#track(
      this.#store.create(
        userKey(name),
        `${this.#node} ${login.session}`,
        this.#view.deletedAt(name),
      )
        .then((revision) => {
          if (revision !== undefined) login.revision = revision;
          // Taken: the view shows who by, and the session yields then.
        }, (error) => {
          this.#log.emit({
            level: "error",
            event: "cluster-fault",
            message: `cannot claim ${name} again: ${describeError(error)}`,
            user: name,
            cause: describeError(error),
          });
        })
        .finally(() => {
          this.#reclaiming.delete(name);
        }),
    );
  }

  #yield(name: string, login: Login, node: string): void {
    if (this.#logins.get(name) !== login) return;
    this.#logins.delete(name);
    this.#log.emit({
      level: "error",
      event: "session-taken",
      message: `${name} is online on node ${node}: closing the session here`,
      user: name,
      cause: `online on node ${node}`,
    });
    login.inbox.owner.drop(`online on node ${node}`);
  }

  #deleteKey(name: string, revision: number): Promise<void> {
    this.#unreleased.delete(name);
    return this.#track(
      this.#store.delete(userKey(name), revision).then(() => {}, () => {
        // Unreachable: try again on the next resync.
        if (!this.#logins.has(name)) this.#unreleased.set(name, revision);
      }),
    );
  }

  #track(write: Promise<void>): Promise<void> {
    const tracked = write.finally(() => this.#writes.delete(tracked));
    this.#writes.add(tracked);
    return tracked;
  }
}

function newSessionToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
