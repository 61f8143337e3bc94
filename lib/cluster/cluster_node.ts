/**
 * A server as one node of a cluster: the backend that shares the online list
 * and delivery with the other nodes through NATS, and keeps them right
 * through the faults of nodes and of NATS itself.
 *
 * @module
 */

import { delay } from "../async/delay.ts";
import { describeError } from "../errors.ts";
import type {
  Backend,
  BackendContext,
  BackendFactory,
} from "../server/backend.ts";
import { LocalDelivery } from "../server/delivery.ts";
import type { EventLog } from "../server/log.ts";
import { ClusterDelivery } from "./cluster_delivery.ts";
import { ClusterRegistry } from "./cluster_registry.ts";
import { Liveness } from "./liveness.ts";
import { defaultNodeName, isNodeName } from "./naming.ts";
import { NatsLink } from "./nats_link.ts";
import { PresenceView } from "./presence.ts";

/** Default time the first connection to NATS may take, in milliseconds. */
export const DEFAULT_NATS_TIMEOUT_MS = 5_000;
/** Between two heartbeats of a node, in milliseconds. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** Silence after which a node is taken for dead, in milliseconds. */
export const DEAD_AFTER_MS = 3_000;
const RESYNC_RETRY_MS = 500;
// How often a node checks that its watch of the bucket keeps up.
const WATCH_CHECK_MS = 1_000;

/** Options for {@linkcode ClusterNode.start}. */
export interface ClusterOptions {
  /** The NATS servers' URLs, `nats://host:port`. */
  servers: string[];
  /** The node's name: letters, digits, `_`, `-`. Default: unique per process. */
  node?: string;
  /** Replicas of the presence bucket. Default 1; 3 on a NATS cluster. */
  replicas?: number;
  /** How long the first connection to NATS may take. Default 5 s. */
  timeoutMs?: number;
  /** The users file (user name to stored password), to compare with the cluster's. */
  users: ReadonlyMap<string, string>;
}

/** A cluster node's link to the others. Start it before its server. */
export class ClusterNode {
  /** The node's name. */
  readonly name: string;
  readonly #link: NatsLink;
  readonly #view = new PresenceView();
  readonly #users: ReadonlyMap<string, string>;
  readonly #closing = new AbortController();
  #resyncing: Promise<void> | undefined;
  #watchCheck: ReturnType<typeof setInterval> | undefined;
  #revisionAtCheck = -1;
  #checking = false;

  private constructor(
    name: string,
    link: NatsLink,
    users: ReadonlyMap<string, string>,
  ) {
    this.name = name;
    this.#link = link;
    this.#users = users;
  }

  /**
   * Connects to NATS and starts following who is online. Rejects with a
   * one-line message if the node name is not valid or NATS cannot be used.
   */
  static async start(options: ClusterOptions): Promise<ClusterNode> {
    const name = options.node ?? defaultNodeName();
    if (!isNodeName(name)) {
      throw new Error(
        `node name "${name}" must be 1 to 64 letters, digits, _ or -`,
      );
    }
    const link = await NatsLink.connect({
      servers: options.servers,
      node: name,
      replicas: options.replicas ?? 1,
      timeoutMs: options.timeoutMs ?? DEFAULT_NATS_TIMEOUT_MS,
    });
    const node = new ClusterNode(name, link, options.users);
    try {
      await link.follow(node.#view);
    } catch (error) {
      await link.close();
      throw new Error(
        `cannot watch the presence bucket: ${describeError(error)}`,
      );
    }
    return node;
  }

  /** The backend for this node's server; a server uses it once. */
  get backend(): BackendFactory {
    return (context) => this.#makeBackend(context);
  }

  /** Closes the link to NATS (the backend does it when its server closes). */
  async close(): Promise<void> {
    this.#closing.abort();
    clearInterval(this.#watchCheck);
    await this.#resyncing;
    await this.#link.close();
  }

  #makeBackend(context: BackendContext): Backend {
    const { log } = context;
    const view = this.#view;
    const link = this.#link;
    const registry = new ClusterRegistry({
      node: this.name,
      store: link,
      view,
      log,
    });
    const local = new LocalDelivery(registry, context);
    const liveness: Liveness = new Liveness({
      node: this.name,
      channel: link,
      known: () => [...view.nodes().keys(), ...delivery.waitingOn()],
      onDead: (node) => {
        delivery.nodeDead(node);
        registry.purgeNode(node);
      },
      onAlive: (node) => logInfo(log, `node ${node} is back`),
      intervalMs: HEARTBEAT_INTERVAL_MS,
      deadAfterMs: DEAD_AFTER_MS,
    });
    const delivery: ClusterDelivery = new ClusterDelivery({
      node: this.name,
      view,
      local,
      transport: link,
      isDead: (node) => liveness.isDead(node),
      lookup: (name) => link.nodeOf(name),
      replyTimeoutMs: context.replies.delayMs,
      log,
    });
    link.onHeartbeat((node) => liveness.heard(node));
    link.serve((verb, payload) => delivery.answer(verb, payload));
    liveness.connected();
    liveness.start();
    registry.resync();
    logInfo(log, `node ${this.name} joined the cluster at ${link.server}`);
    this.#checkUsersFile(log);
    link.onStatus = (event) => {
      if (event === "disconnected") {
        liveness.disconnected();
        log.emit({
          level: "error",
          event: "cluster-fault",
          message: "lost the connection to NATS; reconnecting",
          cause: "NATS unreachable",
        });
        return;
      }
      liveness.connected();
      logInfo(log, `reconnected to NATS at ${link.server}`);
      this.#resync(registry, log);
    };
    this.#watchCheck = setInterval(
      () => this.#checkWatch(registry, log),
      WATCH_CHECK_MS,
    );
    return {
      registry,
      delivery,
      close: async () => {
        liveness.stop();
        delivery.close();
        await registry.settle();
        await this.close();
      },
    };
  }

  /** Follows the bucket again, until it can; one attempt at a time. */
  #resync(registry: ClusterRegistry, log: EventLog): void {
    this.#resyncing ??= (async () => {
      const { signal } = this.#closing;
      while (!signal.aborted) {
        try {
          registry.resync(await this.#link.follow(this.#view));
          return;
        } catch (error) {
          log.emit({
            level: "error",
            event: "cluster-fault",
            message: `cannot follow the presence bucket yet: ${
              describeError(error)
            }`,
            cause: describeError(error),
          });
          await delay(RESYNC_RETRY_MS, { signal });
        }
      }
    })().finally(() => {
      this.#resyncing = undefined;
    });
  }

  /**
   * Follows the bucket again if the watch has stalled: the bucket has moved
   * past the view, and the view has not moved since the last check. (A watch
   * whose server went away does not always say so.)
   */
  async #checkWatch(registry: ClusterRegistry, log: EventLog): Promise<void> {
    if (this.#resyncing !== undefined || this.#checking) return;
    const seen = this.#view.revision;
    const stalled = seen === this.#revisionAtCheck;
    this.#revisionAtCheck = seen;
    if (!stalled) return;
    let last: number;
    this.#checking = true;
    try {
      last = await this.#link.lastRevision();
    } catch {
      return; // JetStream is away; the next check tries again.
    } finally {
      this.#checking = false;
    }
    if (last <= seen || this.#closing.signal.aborted) return;
    log.emit({
      level: "error",
      event: "cluster-fault",
      message:
        `the watch of the presence bucket stalled at ${seen} of ${last}; following again`,
      cause: "watch stalled",
    });
    this.#resync(registry, log);
  }

  async #checkUsersFile(log: EventLog): Promise<void> {
    try {
      if (await this.#link.sameUsersFile(await fingerprint(this.#users))) {
        return;
      }
      log.emit({
        level: "error",
        event: "users-file-differs",
        message:
          "this node's users file differs from the one the cluster uses: start every node with the same file",
        cause: "users file differs",
      });
    } catch (error) {
      logInfo(log, `cannot compare the users file: ${describeError(error)}`);
    }
  }
}

function logInfo(log: EventLog, message: string): void {
  log.emit({ level: "info", event: "cluster", message });
}

/** SHA-256 of the users, one `name password` line each, sorted. */
async function fingerprint(
  users: ReadonlyMap<string, string>,
): Promise<string> {
  const lines = [...users].map(([name, password]) => `${name} ${password}\n`)
    .sort().join("");
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(lines),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}
