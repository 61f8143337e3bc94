/**
 * The presence bucket without NATS, for the cluster's unit tests: a bucket
 * that gives every write the next revision, as a JetStream stream does; a
 * watcher per node that feeds that node's {@linkcode PresenceView} with each
 * change, at once, on a later tick or when the test says; and a store per
 * node (the registry's {@linkcode PresenceStore}) whose writes a test can
 * make fail, or answer late.
 *
 * @module
 */

import type { PresenceStore } from "../../lib/cluster/cluster_registry.ts";
import { nameOfKey, userKey } from "../../lib/cluster/naming.ts";
import type { PresenceView } from "../../lib/cluster/presence.ts";

/**
 * When a watcher hands a change to its view: `early` on the next microtask,
 * before the writer hears back; `late` on a later macrotask, after the writer
 * heard back; `manual` on {@linkcode BucketWatcher.flush}.
 */
export type Feed = "early" | "late" | "manual";

/** One change in the bucket: a put (`value` set) or a delete. */
interface Change {
  key: string;
  value?: string;
  revision: number;
}

/** A user's key as the bucket holds it. */
export interface StoredPresence {
  /** The node named in the key's value. */
  node: string;
  /** The login's token named in the key's value. */
  session: string;
  /** The key's revision. */
  revision: number;
}

/** The shared bucket: keys, revisions, and the watchers following it. */
export class FakeBucket {
  /** Each key's last change: a deleted key keeps its delete, as NATS does. */
  readonly #entries = new Map<string, Change>();
  readonly #watchers = new Set<BucketWatcher>();
  #revision = 0;

  /** The revision of the last write. */
  get revision(): number {
    return this.#revision;
  }

  /** What the bucket holds for user `name`, if anything. */
  presence(name: string): StoredPresence | undefined {
    const entry = this.#entries.get(userKey(name));
    if (entry?.value === undefined) return undefined;
    const [node, session] = entry.value.split(" ");
    return { node, session, revision: entry.revision };
  }

  /** Every user with a key, in the order of their keys' revisions. */
  names(): string[] {
    return [...this.#entries.values()]
      .filter((entry) => entry.value !== undefined)
      .sort((a, b) => a.revision - b.revision)
      .map((entry) => nameOfKey(entry.key) ?? entry.key);
  }

  /** Creates `key` unless it exists: its revision, or `undefined`. */
  create(key: string, value: string): number | undefined {
    if (this.#entries.get(key)?.value !== undefined) return undefined;
    const revision = ++this.#revision;
    this.#publish({ key, value, revision });
    return revision;
  }

  /** Deletes `key` if its revision is still `revision`. */
  delete(key: string, revision: number): boolean {
    const entry = this.#entries.get(key);
    if (entry?.value === undefined || entry.revision !== revision) return false;
    this.#publish({ key, revision: ++this.#revision });
    return true;
  }

  /** Logs `name` in on `node`, as another node's registry would. */
  claim(name: string, node: string, session: string): number | undefined {
    return this.create(userKey(name), `${node} ${session}`);
  }

  /** Deletes `name`'s key at the revision it has now, if it has one. */
  evict(name: string): boolean {
    const held = this.presence(name);
    return held !== undefined && this.delete(userKey(name), held.revision);
  }

  /** Forgets every key and revision: a NATS restarted without its store. */
  lose(): void {
    this.#entries.clear();
    this.#revision = 0;
  }

  /**
   * A watcher feeding `view` as `feed` says. It first replays each key's
   * last change (a put, or a delete), as a new watch does: from revision
   * `from` on, as a watch resumed after an outage does (it sees where each
   * key ended, not how it got there).
   */
  watch(view: PresenceView, feed: Feed = "early", from = 0): BucketWatcher {
    const watcher = new BucketWatcher(view, feed, () => {
      this.#watchers.delete(watcher);
    });
    this.#watchers.add(watcher);
    const existing = [...this.#entries.values()]
      .filter((entry) => entry.revision >= from)
      .sort((a, b) => a.revision - b.revision);
    for (const entry of existing) watcher.push(entry);
    return watcher;
  }

  /** A store for one node, writing to this bucket. */
  store(): FakeStore {
    return new FakeStore(this);
  }

  #publish(change: Change): void {
    this.#entries.set(change.key, change);
    for (const watcher of this.#watchers) watcher.push(change);
  }
}

/** Feeds one node's view with the bucket's changes, in revision order. */
export class BucketWatcher {
  readonly #view: PresenceView;
  readonly #feed: Feed;
  readonly #unsubscribe: () => void;
  readonly #pending: Change[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queued = false;

  /** A watcher of `feed` kind; `unsubscribe` detaches it from the bucket. */
  constructor(view: PresenceView, feed: Feed, unsubscribe: () => void) {
    this.#view = view;
    this.#feed = feed;
    this.#unsubscribe = unsubscribe;
  }

  /** Changes not yet handed to the view. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Takes one change from the bucket. */
  push(change: Change): void {
    this.#pending.push(change);
    if (this.#feed === "early" && !this.#queued) {
      this.#queued = true;
      queueMicrotask(() => {
        this.#queued = false;
        this.flush();
      });
    } else if (this.#feed === "late" && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, 0);
    }
  }

  /** Hands every pending change to the view, in order. */
  flush(): void {
    while (this.#pending.length > 0) {
      const change = this.#pending.shift()!;
      const name = nameOfKey(change.key);
      if (name === undefined) continue;
      if (change.value === undefined) {
        this.#view.remove(name, change.revision);
      } else {
        const [node, session] = change.value.split(" ");
        this.#view.put(name, node, session, change.revision);
      }
    }
  }

  /** Stops following the bucket; pending changes are dropped. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.length = 0;
    this.#unsubscribe();
  }
}

/**
 * What a fault does to a create: `lost` rejects and stores nothing;
 * `unknown` stores the key yet rejects, as a timed-out create may.
 */
export type CreateFault = "lost" | "unknown";

/** One write a store was asked for, and how it ended. */
export interface StoreCall {
  /** `create` or `delete`. */
  op: "create" | "delete";
  /** The user whose key it was. */
  name: string;
  /** The value created, or the revision a delete was made at. */
  arg: string | number;
  /** The revision or success it resolved to, or `rejected`. */
  result?: number | boolean | "rejected";
}

/**
 * One node's way into the bucket. A write takes effect when it is called and
 * answers on a later microtask, or when the test releases held answers.
 */
export class FakeStore implements PresenceStore {
  /** Every write asked for, in order. */
  readonly calls: StoreCall[] = [];
  /** What creates do from now on; `undefined` for no fault. */
  createFault: CreateFault | undefined;
  /** Whether deletes reject (and delete nothing) from now on. */
  deleteFault = false;
  readonly #bucket: FakeBucket;
  #held: PromiseWithResolvers<void> | undefined;

  /** A store writing to `bucket`. */
  constructor(bucket: FakeBucket) {
    this.#bucket = bucket;
  }

  /** The creates asked for. */
  get creates(): StoreCall[] {
    return this.calls.filter((call) => call.op === "create");
  }

  /** The deletes asked for. */
  get deletes(): StoreCall[] {
    return this.calls.filter((call) => call.op === "delete");
  }

  /** From now on, writes take effect but answer only on `release`. */
  hold(): void {
    this.#held ??= Promise.withResolvers();
  }

  /** Answers the writes held so far, and stops holding. */
  release(): void {
    this.#held?.resolve();
    this.#held = undefined;
  }

  /** Creates `key` unless it exists, with the fault in force. */
  async create(key: string, value: string): Promise<number | undefined> {
    const call: StoreCall = { op: "create", name: nameOf(key), arg: value };
    this.calls.push(call);
    const fault = this.createFault;
    const revision = fault === "lost"
      ? undefined
      : this.#bucket.create(key, value);
    await this.#answer();
    if (fault !== undefined) {
      call.result = "rejected";
      throw new Error("timed out waiting for the bucket");
    }
    call.result = revision;
    return revision;
  }

  /** Deletes `key` at `revision`, with the fault in force. */
  async delete(key: string, revision: number): Promise<boolean> {
    const call: StoreCall = { op: "delete", name: nameOf(key), arg: revision };
    this.calls.push(call);
    const fault = this.deleteFault;
    const deleted = !fault && this.#bucket.delete(key, revision);
    await this.#answer();
    if (fault) {
      call.result = "rejected";
      throw new Error("NATS is unreachable");
    }
    call.result = deleted;
    return deleted;
  }

  async #answer(): Promise<void> {
    if (this.#held !== undefined) await this.#held.promise;
    else await Promise.resolve();
  }
}

function nameOf(key: string): string {
  return nameOfKey(key) ?? key;
}
