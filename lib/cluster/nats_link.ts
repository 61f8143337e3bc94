/**
 * The node's link to NATS: the connection, the presence bucket and its
 * watcher, heartbeats, and requests between nodes. Everything NATS-specific
 * is here; the registry, delivery and liveness see only small interfaces.
 *
 * @module
 */

import { Kvm } from "@nats-io/kv";
import type { KV, KvWatchEntry } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection, QueuedIterator } from "@nats-io/transport-node";
import { delay } from "../async/delay.ts";
import { describeError } from "../errors.ts";
import { NodeGoneError, type NodeTransport } from "./cluster_delivery.ts";
import type { PresenceStore } from "./cluster_registry.ts";
import {
  HEARTBEAT_SUBJECT,
  nameOfKey,
  nodeSubject,
  type NodeVerb,
  PRESENCE_BUCKET,
  userKey,
  USERS_FILE_KEY,
} from "./naming.ts";
import type { PresenceView } from "./presence.ts";
import { KvWrites } from "./kv_writes.ts";
import { NoRespondersError, Requests } from "./requests.ts";

const RECONNECT_WAIT_MS = 250;
const OPEN_RETRY_MS = 250;
// As long as the NATS client's own JetStream requests wait.
const WRITE_TIMEOUT_MS = 5_000;
// A create races the key's other writers at most this many times.
const CREATE_ATTEMPTS = 3;

/** Options for {@linkcode NatsLink.connect}. */
export interface NatsLinkOptions {
  /** The NATS servers' URLs. */
  servers: string[];
  /** This node's name, also the connection's. */
  node: string;
  /** Replicas of the presence bucket: 1, or 3 on a NATS cluster. */
  replicas: number;
  /** How long the first connection may take, in milliseconds. */
  timeoutMs: number;
}

/** What changed in the link's state. */
export type LinkEvent = "disconnected" | "reconnected";

/** The connection to NATS and everything the node does over it. */
export class NatsLink implements PresenceStore, NodeTransport {
  readonly #nc: NatsConnection;
  readonly #options: NatsLinkOptions;
  /** Told of each disconnection and reconnection. */
  onStatus: ((event: LinkEvent) => void) | undefined;
  #kv: KV;
  #watch: QueuedIterator<KvWatchEntry> | undefined;
  #streamCreated: string | undefined;
  #connected = true;
  readonly #requests: Requests;
  readonly #writes: KvWrites;

  private constructor(nc: NatsConnection, kv: KV, options: NatsLinkOptions) {
    this.#nc = nc;
    this.#kv = kv;
    this.#options = options;
    this.#requests = new Requests(nc, `_INBOX.chat.${options.node}`);
    this.#writes = new KvWrites(
      this.#requests,
      PRESENCE_BUCKET,
      WRITE_TIMEOUT_MS,
    );
    this.#followStatus().catch(() => {});
  }

  /**
   * Connects and opens the presence bucket, making it if it is missing.
   * Rejects with a one-line message naming the servers if NATS cannot be
   * reached or has no JetStream.
   */
  static async connect(options: NatsLinkOptions): Promise<NatsLink> {
    const where = options.servers.join(",");
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: options.servers,
        name: options.node,
        timeout: options.timeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: RECONNECT_WAIT_MS,
        pingInterval: 2_000,
        maxPingOut: 3,
        // Stack traces captured up front for every request and subscription
        // cost more than they tell.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw new Error(`cannot reach NATS at ${where}: ${describeError(error)}`);
    }
    // A NATS server that has just started may still be electing its
    // JetStream leaders: try until the connect timeout is spent.
    const deadline = performance.now() + options.timeoutMs;
    for (;;) {
      try {
        return new NatsLink(
          nc,
          await openBucket(nc, options.replicas),
          options,
        );
      } catch (error) {
        if (performance.now() + OPEN_RETRY_MS < deadline) {
          await delay(OPEN_RETRY_MS);
          continue;
        }
        await nc.close();
        throw new Error(
          `NATS at ${where} has no usable JetStream (is nats-server started with -js?): ${
            describeError(error)
          }`,
        );
      }
    }
  }

  /** The server this node is connected to. */
  get server(): string {
    return this.#nc.getServer();
  }

  async #followStatus(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (status.type === "disconnect") {
        this.#connected = false;
        this.#requests.failAll("the connection to NATS dropped");
        this.onStatus?.("disconnected");
      } else if (status.type === "reconnect") {
        this.#connected = true;
        this.onStatus?.("reconnected");
      }
    }
  }

  /** Fails at once while NATS is unreachable, rather than queueing. */
  #checkConnected(): void {
    if (!this.#connected) throw new Error("NATS is unreachable");
  }

  /**
   * Opens the bucket again (it may have been lost with the server's store)
   * and feeds `view` from it: from the last revision seen if it is the same
   * bucket, from scratch if it is a new one. Resolves once watching; rejects
   * if the bucket cannot be reached. Resolves to true if the bucket is a new
   * one (the old was lost with NATS's store).
   */
  async follow(view: PresenceView): Promise<boolean> {
    this.#watch?.stop();
    this.#watch = undefined;
    this.#kv = await openBucket(this.#nc, this.#options.replicas);
    const { streamInfo } = await this.#kv.status();
    const lost = this.#streamCreated !== undefined &&
      streamInfo.created !== this.#streamCreated;
    if (lost) view.clear();
    this.#streamCreated = streamInfo.created;
    const resume = view.revision > 0 ? view.revision + 1 : undefined;
    // Every key, not only users': the view's revision then follows the
    // bucket's, which tells a watch that has stalled.
    const watch = await this.#kv.watch({ resumeFromRevision: resume });
    this.#watch = watch;
    (async () => {
      for await (const entry of watch) applyEntry(view, entry);
    })().catch(() => {
      // Stopped, or the connection closed: the next follow starts anew.
    });
    return lost;
  }

  /**
   * Creates `key`; `undefined` if it exists. Expects the key's last revision
   * to be `deletedAt` (or 0, never written); when it is not, reads the key to
   * learn whether it lives or only its delete marker does, and tries again.
   */
  async create(
    key: string,
    value: string,
    deletedAt = 0,
  ): Promise<number | undefined> {
    this.#checkConnected();
    let expected = deletedAt;
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      const revision = await this.#writes.create(key, value, expected);
      if (revision !== undefined) return revision;
      const last = await this.#kv.get(key);
      if (last !== null && last.operation === "PUT") return undefined;
      expected = last?.revision ?? 0;
    }
    return undefined;
  }

  /** Deletes `key` at `revision`; false if the key has moved on. */
  delete(key: string, revision: number): Promise<boolean> {
    this.#checkConnected();
    return this.#writes.delete(key, revision);
  }

  /**
   * The node user `name` is online on, read from the bucket; `undefined` if
   * nowhere, or if NATS cannot say.
   */
  async nodeOf(name: string): Promise<string | undefined> {
    if (!this.#connected) return undefined;
    try {
      const entry = await this.#kv.get(userKey(name));
      if (entry === null || entry.operation !== "PUT") return undefined;
      return entry.string().split(" ")[0] || undefined;
    } catch {
      return undefined;
    }
  }

  /** The bucket's latest revision, as JetStream has it. */
  async lastRevision(): Promise<number> {
    const { streamInfo } = await this.#kv.status();
    return streamInfo.state.last_seq;
  }

  /**
   * Records the users file's fingerprint if no node has; otherwise whether
   * this node's matches the one recorded.
   */
  async sameUsersFile(fingerprint: string): Promise<boolean> {
    if (await this.create(USERS_FILE_KEY, fingerprint) !== undefined) {
      return true;
    }
    const recorded = await this.#kv.get(USERS_FILE_KEY);
    return recorded?.string() === fingerprint;
  }

  /** Publishes this node's heartbeat. */
  publish(): void {
    try {
      this.#nc.publish(HEARTBEAT_SUBJECT, this.#options.node);
    } catch {
      // Closed or draining: nothing to say.
    }
  }

  /** Calls `heard` with the node name of every heartbeat. */
  onHeartbeat(heard: (node: string) => void): void {
    this.#nc.subscribe(HEARTBEAT_SUBJECT, {
      callback: (error, msg) => {
        if (error === null) heard(msg.string());
      },
    });
  }

  /** Answers this node's requests with `answer`. */
  serve(answer: (verb: NodeVerb, payload: string) => Promise<string>): void {
    for (const verb of ["to", "toall", "ping"] as const) {
      this.#nc.subscribe(nodeSubject(this.#options.node, verb), {
        callback: (error, msg) => {
          if (error !== null) return;
          answer(verb, msg.string()).then(
            (reply) => msg.respond(reply),
            () => msg.respond("0"),
          );
        },
      });
    }
  }

  /** A request to another node; {@linkcode NodeGoneError} if none answers. */
  async request(
    node: string,
    verb: NodeVerb,
    payload: string,
    timeoutMs: number,
  ): Promise<string> {
    this.#checkConnected();
    try {
      return await this.#requests.request(
        nodeSubject(node, verb),
        payload,
        timeoutMs,
      );
    } catch (error) {
      if (error instanceof NoRespondersError) throw new NodeGoneError(node);
      throw error;
    }
  }

  /** Stops watching, lets pending messages out, and closes. */
  async close(): Promise<void> {
    this.#watch?.stop();
    this.#requests.close();
    try {
      await this.#nc.drain();
    } catch {
      // Already closed.
    }
  }
}

async function openBucket(nc: NatsConnection, replicas: number): Promise<KV> {
  return await new Kvm(nc).create(PRESENCE_BUCKET, { history: 1, replicas });
}

function applyEntry(view: PresenceView, entry: KvWatchEntry): void {
  const name = nameOfKey(entry.key);
  if (name === undefined) {
    view.seen(entry.revision);
    return;
  }
  if (entry.operation !== "PUT") {
    view.remove(name, entry.revision);
    return;
  }
  const [node, session] = entry.string().split(" ");
  if (node && session) view.put(name, node, session, entry.revision);
}
