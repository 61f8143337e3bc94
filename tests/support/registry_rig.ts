/**
 * Cluster nodes reduced to their online lists, for the registry's unit
 * tests: each node a {@linkcode ClusterRegistry} over its own store and view,
 * all sharing one {@linkcode FakeBucket}; users whose session ends, as a real
 * one does, when the registry drops them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ClusterRegistry } from "../../lib/cluster/cluster_registry.ts";
import { PresenceView } from "../../lib/cluster/presence.ts";
import { Inbox } from "../../lib/server/inbox.ts";
import type { LogEvent } from "../../lib/server/log.ts";
import {
  type BucketWatcher,
  type FakeBucket,
  FakeStore,
  type Feed,
} from "./fake_presence.ts";
import { pollUntil } from "./faults.ts";
import { FakeOwner, recordingLog } from "./server_parts.ts";

/** One node: its registry, the view and store under it, what it logged. */
export class RegistryNode {
  /** The node's name. */
  readonly name: string;
  /** Its view of who is online. */
  readonly view: PresenceView = new PresenceView();
  /** Its way into the bucket. */
  readonly store: FakeStore;
  /** Feeds its view. */
  watcher: BucketWatcher;
  /** Its online list. */
  readonly registry: ClusterRegistry;
  /** Everything it logged. */
  readonly events: LogEvent[];
  readonly #bucket: FakeBucket;

  /** Node `name` on `bucket`, its view fed as `feed` says. */
  constructor(bucket: FakeBucket, name: string, feed: Feed = "early") {
    this.name = name;
    this.#bucket = bucket;
    this.store = bucket.store();
    const { log, events } = recordingLog();
    this.events = events;
    this.registry = new ClusterRegistry({
      node: name,
      store: this.store,
      view: this.view,
      log,
    });
    this.watcher = bucket.watch(this.view, feed);
  }

  /**
   * Watches the bucket again from revision `from`, as after an outage of
   * the link: what changed meanwhile arrives as each key's last value.
   */
  rewatch(from: number, feed: Feed = "early"): void {
    this.watcher.stop();
    this.watcher = this.#bucket.watch(this.view, feed, from);
  }

  /** A user about to log in here. */
  user(name: string): User {
    return new User(name, this.registry);
  }

  /**
   * `promise`'s value, handing the view every change meanwhile (a `manual`
   * watcher's included).
   */
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const done = promise.finally(() => settled = true);
    done.catch(() => {});
    await pollUntil(() => {
      this.watcher.flush();
      return settled;
    }, () => `${this.name}: still waiting`);
    return await done;
  }

  /** Logs `user` in; fails unless the claim succeeds. */
  async login(name: string): Promise<User> {
    const user = this.user(name);
    assert.equal(await this.run(this.registry.claim(user.inbox)), true, name);
    return user;
  }

  /** The events logged as `event`. */
  logged(event: string): LogEvent[] {
    return this.events.filter((logged) => logged.event === event);
  }

  /** Ends the writes under way, and lets the view see them. */
  async settle(): Promise<void> {
    await this.registry.settle();
    this.watcher.flush();
  }

  /** Local users' names, in the order they logged in here. */
  locals(): string[] {
    return [...this.registry.locals()].map((inbox) => inbox.name);
  }
}

/** A logged-in user: dropped, its session ends and leaves the list. */
export class User extends FakeOwner {
  /** The user's inbox. */
  readonly inbox: Inbox;
  readonly #registry: ClusterRegistry;

  /** `name`, to log in with `registry`. */
  constructor(name: string, registry: ClusterRegistry) {
    super();
    this.inbox = new Inbox(name, this);
    this.#registry = registry;
  }

  /** The session ends, as a real one does: off the list. */
  override drop(cause: string): void {
    super.drop(cause);
    this.#registry.release(this.inbox);
  }

  /** The user logs out. */
  leave(): Promise<void> {
    return this.#registry.release(this.inbox);
  }
}

/** Waits until the bucket-side `condition` holds after writes settle. */
export async function eventually(
  nodes: RegistryNode[],
  condition: () => boolean,
  describe: () => string,
  timeoutMs = 1_000,
): Promise<void> {
  await pollUntil(
    async () => {
      for (const node of nodes) await node.settle();
      return condition();
    },
    describe,
    timeoutMs,
  );
}
