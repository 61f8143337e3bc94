/**
 * Cluster nodes reduced to their delivery, for its unit tests: each node a
 * {@linkcode ClusterDelivery} over its own users (inboxes on fake Lbs that
 * answer by themselves), all sharing one presence view and one fake network
 * that carries requests between nodes. A test can make a node slow to
 * deliver, paused (nothing answers until the request times out) or gone (no
 * responders), and reads every request that crossed.
 *
 * @module
 */

import { TimeoutQueue } from "../../lib/async/timeout_queue.ts";
import {
  ClusterDelivery,
  NodeGoneError,
  type NodeTransport,
} from "../../lib/cluster/cluster_delivery.ts";
import type { NodeVerb } from "../../lib/cluster/naming.ts";
import { PresenceView } from "../../lib/cluster/presence.ts";
import { LocalDelivery } from "../../lib/server/delivery.ts";
import { Inbox } from "../../lib/server/inbox.ts";
import type { LogEvent } from "../../lib/server/log.ts";
import { LocalRegistry } from "../../lib/server/registry.ts";
import { FakeChatLink } from "./fake_links.ts";
import { FakeOwner, recordingLog } from "./server_parts.ts";

/** A client's receipt, from the handout. */
export const RECEIPT = "302 Message receipt successful";

/**
 * How a node takes requests: `up` answers; `slow` answers pings but holds
 * deliveries until {@linkcode Network.release}; `paused` answers nothing, so
 * requests time out; `faulty` fails each request at once with a fault other
 * than no responders; `gone` has no responders.
 */
export type NodeState = "up" | "slow" | "paused" | "faulty" | "gone";

/** One request that crossed the network. */
export interface Crossing {
  /** The node that sent it. */
  from: string;
  /** The node it was for. */
  to: string;
  /** What it asked. */
  verb: NodeVerb;
  /** How long the sender would wait. */
  timeoutMs: number;
}

/** An Lb whose client answers each line with `answer`, if set. */
export class AnsweringLink extends FakeChatLink {
  /** What the client answers; `undefined` for silence. */
  answer: string | undefined = RECEIPT;

  /** Records the line, then lets the client answer it. */
  override send(text: string, bytes: Uint8Array): Promise<void> {
    const sent = super.send(text, bytes);
    const answer = this.answer;
    if (answer !== undefined) sent.then(() => this.reply(answer), () => {});
    return sent;
  }
}

/** One online user. */
export interface OnlineUser {
  /** The user's inbox. */
  inbox: Inbox;
  /** The user's Lb. */
  lb: AnsweringLink;
  /** What the inbox told its owner. */
  owner: FakeOwner;
}

/** One node: its local users and its delivery. */
export class DeliveryNode {
  /** The node's name. */
  readonly name: string;
  /** Its local users. */
  readonly registry = new LocalRegistry();
  /** The reply timeout of its receivers. */
  readonly replies: TimeoutQueue;
  /** Everything it logged. */
  readonly events: LogEvent[];
  /** Its delivery. */
  readonly delivery: ClusterDelivery;
  /** Nodes it takes for dead. */
  readonly dead = new Set<string>();

  /** Node `name` on `network`, its receivers given `replyTimeoutMs`. */
  constructor(network: Network, name: string, replyTimeoutMs: number) {
    this.name = name;
    const { log, events } = recordingLog();
    this.events = events;
    this.replies = new TimeoutQueue(replyTimeoutMs);
    this.delivery = new ClusterDelivery({
      node: name,
      view: network.view,
      local: new LocalDelivery(this.registry, { replies: this.replies, log }),
      transport: network.transport(name),
      isDead: (node) => this.dead.has(node),
      replyTimeoutMs,
      log,
    });
  }

  /** The failures it logged, as `receiver: cause`. */
  failures(): string[] {
    return this.events
      .filter((event) => event.event === "delivery-failed")
      .map((event) => `${event.to}: ${event.cause}`);
  }
}

/** Nodes, their users, and the requests between them. */
export class Network implements Disposable {
  /** The cluster's online list, the same for every node. */
  readonly view: PresenceView = new PresenceView();
  /** Every request but pings, in the order sent. */
  readonly crossings: Crossing[] = [];
  /** How many pings each node was sent. */
  readonly pings = new Map<string, number>();
  /** How many pings each node answered. */
  readonly pongs = new Map<string, number>();
  readonly #nodes = new Map<string, DeliveryNode>();
  readonly #states = new Map<string, NodeState>();
  readonly #users = new Map<string, OnlineUser>();
  readonly #held: (() => void)[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #replyTimeoutMs: number;
  #revision = 0;

  /** A network whose nodes give receivers `replyTimeoutMs`. */
  constructor(replyTimeoutMs = 10_000) {
    this.#replyTimeoutMs = replyTimeoutMs;
  }

  /** Node `name`, made on first use. */
  node(name: string): DeliveryNode {
    let node = this.#nodes.get(name);
    if (node === undefined) {
      node = new DeliveryNode(this, name, this.#replyTimeoutMs);
      this.#nodes.set(name, node);
      this.#states.set(name, "up");
    }
    return node;
  }

  /** Puts `name` online on `node`, with an Lb that answers 302. */
  async online(node: string, name: string): Promise<OnlineUser> {
    const owner = new FakeOwner();
    const inbox = new Inbox(name, owner);
    const lb = new AnsweringLink(inbox);
    inbox.attach(lb);
    await this.node(node).registry.claim(inbox);
    this.view.put(name, node, `token-${name}`, ++this.#revision);
    const user = { inbox, lb, owner };
    this.#users.set(name, user);
    return user;
  }

  /** The user `name`, online somewhere. */
  user(name: string): OnlineUser {
    const user = this.#users.get(name);
    if (user === undefined) throw new Error(`${name} is not online`);
    return user;
  }

  /** Every chat line each user's Lb carried, by user. */
  received(): Record<string, string[]> {
    return Object.fromEntries(
      [...this.#users].map(([name, user]) => [name, user.lb.sent]),
    );
  }

  /** The requests (pings aside) sent to `node`. */
  crossingsTo(node: string): Crossing[] {
    return this.crossings.filter((crossing) => crossing.to === node);
  }

  /** Sets how `node` takes requests from now on. */
  set(node: string, state: NodeState): void {
    this.#states.set(node, state);
  }

  /** Lets the deliveries held by slow nodes through. */
  release(): void {
    for (const release of this.#held.splice(0)) release();
  }

  /** The transport node `from` sends its requests with. */
  transport(from: string): NodeTransport {
    return {
      request: (to, verb, payload, timeoutMs) =>
        this.#route({ from, to, verb, timeoutMs }, payload),
    };
  }

  /** Stops every timer; requests still held fail. */
  [Symbol.dispose](): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const node of this.#states.keys()) this.#states.set(node, "gone");
    this.release();
    for (const node of this.#nodes.values()) {
      node.delivery.close();
      node.replies.close();
    }
  }

  async #route(crossing: Crossing, payload: string): Promise<string> {
    const { to, verb } = crossing;
    if (verb === "ping") this.pings.set(to, (this.pings.get(to) ?? 0) + 1);
    else this.crossings.push(crossing);
    // A trip takes a moment: the answer never comes back in the same turn.
    await Promise.resolve();
    const state = this.#states.get(to);
    if (state === undefined || state === "gone") throw new NodeGoneError(to);
    if (state === "paused") return await this.#timeOut(crossing.timeoutMs);
    if (state === "faulty") throw new Error("NATS is unreachable");
    if (state === "slow" && verb !== "ping") {
      await new Promise<void>((resolve) => this.#held.push(resolve));
      if (this.#states.get(to) === "gone") throw new NodeGoneError(to);
    }
    const answer = await this.node(to).delivery.answer(verb, payload);
    if (verb === "ping") this.pongs.set(to, (this.pongs.get(to) ?? 0) + 1);
    return answer;
  }

  #timeOut(ms: number): Promise<never> {
    return new Promise((_, reject) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        reject(new Error(`request timed out after ${ms} ms`));
      }, ms);
      this.#timers.add(timer);
    });
  }
}
