/**
 * Delivery across a cluster. A receiver's lock lives on the receiver's node,
 * so there is still one exchange at a time per receiver, cluster-wide:
 * - `/to` a user on this node is a local exchange; `/to` a user on another
 *   node is one request to that node, which runs the exchange and answers;
 * - `/toall` runs the local fan-out and sends one request to every other
 *   node with users, each of which fans out to its own users; `303` only if
 *   every part succeeded.
 *
 * Nothing is ever sent twice: a request that fails is answered `304`, never
 * retried. A request to a node that has gone fails at once (NATS has no
 * responder for it); one already waiting on a node that dies fails as soon as
 * a probe finds the node gone, or the node is taken for dead.
 *
 * @module
 */

import { describeError } from "../errors.ts";
import {
  type Delivery,
  type LocalDelivery,
  logDeliveryFailed,
} from "../server/delivery.ts";
import type { EventLog } from "../server/log.ts";
import type { NodeVerb } from "./naming.ts";
import type { PresenceView } from "./presence.ts";

/** A request's target node has no one answering: it is gone. */
export class NodeGoneError extends Error {
  /** The error for `node`. */
  constructor(node: string) {
    super(`node ${node} is gone`);
    this.name = "NodeGoneError";
  }
}

/** How requests reach other nodes. */
export interface NodeTransport {
  /**
   * Sends `payload` to `node` as a `verb` request and resolves to its
   * answer. Rejects with {@linkcode NodeGoneError} when no one answers for
   * the node, and with another error on a timeout or a fault.
   */
  request(
    node: string,
    verb: NodeVerb,
    payload: string,
    timeoutMs: number,
  ): Promise<string>;
}

/** What a {@linkcode ClusterDelivery} works with. */
export interface ClusterDeliveryOptions {
  /** This node's name. */
  node: string;
  /** Who is online where. */
  view: PresenceView;
  /** Delivery to this node's own users. */
  local: LocalDelivery;
  /** Requests to other nodes. */
  transport: NodeTransport;
  /** Whether a node is taken for dead. */
  isDead: (node: string) => boolean;
  /**
   * The node `name` is online on, read from the bucket itself: asked when
   * the view does not know the name, which it may not yet for a login made
   * a moment ago on another node. `undefined` if nowhere (or unknown).
   */
  lookup?: (name: string) => Promise<string | undefined>;
  /** How long a receiver has to answer. */
  replyTimeoutMs: number;
  /** Where failures are logged. */
  log: EventLog;
}

/** A `/to` or `/toall` request between nodes. */
interface DeliveryRequest {
  /** The sender. */
  sender: string;
  /** The receiver, for `/to`; empty for `/toall`. */
  target: string;
  /** The content. */
  content: string;
}

// A request travels as `<sender>\n<target>\n<content>`: names hold no
// newline, and neither does content, which came on one line.
function encodeRequest(request: DeliveryRequest): string {
  return `${request.sender}\n${request.target}\n${request.content}`;
}

function decodeRequest(payload: string): DeliveryRequest {
  const first = payload.indexOf("\n");
  const second = payload.indexOf("\n", first + 1);
  return {
    sender: payload.slice(0, first),
    target: payload.slice(first + 1, second),
    content: payload.slice(second + 1),
  };
}

const DELIVERED = "1";
const NOT_DELIVERED = "0";
// While requests wait on a node, it is asked this often whether it is there.
const PROBE_INTERVAL_MS = 250;

/** Delivery for one node of a cluster. */
export class ClusterDelivery implements Delivery {
  readonly #options: ClusterDeliveryOptions;
  /** Per node, the requests waiting on it: each settles to false if it dies. */
  readonly #waiting = new Map<
    string,
    Set<(ok: boolean, why: string) => void>
  >();
  readonly #probes = new Map<string, ReturnType<typeof setInterval>>();

  /** Delivery for `options.node`. */
  constructor(options: ClusterDeliveryOptions) {
    this.#options = options;
  }

  /** `/to`: here if the receiver is here, else a request to its node. */
  async sendTo(
    sender: string,
    target: string,
    content: string,
  ): Promise<boolean> {
    const { view, node, local, lookup } = this.#options;
    // A user logged in has a key in the bucket before their `101`: a name
    // the view has not seen yet is looked up there.
    const where = view.get(target)?.node ??
      (local.has(target) ? node : await lookup?.(target));
    if (where === undefined || where === node) {
      return await local.sendTo(sender, target, content);
    }
    const request = { sender, target, content };
    return await this.#request(where, "to", request, target);
  }

  /** `/toall`: the local fan-out, and one request per other node. */
  async sendToAll(sender: string, content: string): Promise<boolean> {
    const { view, node, local } = this.#options;
    const parts = [local.sendToAll(sender, content)];
    for (const other of view.nodes().keys()) {
      if (other === node) continue;
      const request = { sender, target: "", content };
      parts.push(this.#request(other, "toall", request, `node ${other}`));
    }
    return (await Promise.all(parts)).every(Boolean);
  }

  /**
   * Answers a request from another node. A delivery waits at most one reply
   * timeout for the receiver's turn, so that it is over before the sender's
   * node stops waiting for the answer.
   */
  async answer(verb: NodeVerb, payload: string): Promise<string> {
    if (verb === "ping") return DELIVERED;
    const { sender, target, content } = decodeRequest(payload);
    const startBy = performance.now() + this.#options.replyTimeoutMs;
    const { local } = this.#options;
    const ok = verb === "to"
      ? await local.sendTo(sender, target, content, { startBy })
      : await local.sendToAll(sender, content, { startBy });
    return ok ? DELIVERED : NOT_DELIVERED;
  }

  /** The nodes that requests are waiting on. */
  waitingOn(): Iterable<string> {
    return this.#waiting.keys();
  }

  /** `node` is taken for dead: what waits on it fails now. */
  nodeDead(node: string): void {
    const waiting = this.#waiting.get(node);
    if (waiting === undefined) return;
    for (const settle of [...waiting]) settle(false, `node ${node} is gone`);
  }

  /** Stops probing; requests still waiting fail. */
  close(): void {
    for (const node of [...this.#waiting.keys()]) this.nodeDead(node);
  }

  #request(
    node: string,
    verb: NodeVerb,
    request: DeliveryRequest,
    receiver: string,
  ): Promise<boolean> {
    const { transport, isDead, replyTimeoutMs } = this.#options;
    if (isDead(node)) {
      this.#failed(request.sender, receiver, `node ${node} is taken for dead`);
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      let waiting = this.#waiting.get(node);
      if (waiting === undefined) {
        waiting = new Set();
        this.#waiting.set(node, waiting);
        this.#startProbe(node);
      }
      const settle = (ok: boolean, why: string) => {
        if (!waiting.delete(settle)) return;
        if (waiting.size === 0) this.#stopProbe(node);
        if (!ok) this.#failed(request.sender, receiver, why);
        resolve(ok);
      };
      waiting.add(settle);
      // The receiver's node waits one reply timeout for the receiver's turn
      // and one for the receipt; the rest is the trip.
      const timeoutMs = 2 * replyTimeoutMs + 1_000;
      transport.request(node, verb, encodeRequest(request), timeoutMs).then(
        (answer) =>
          settle(answer === DELIVERED, `not delivered by node ${node}`),
        (error) => settle(false, `node ${node}: ${describeError(error)}`),
      );
    });
  }

  #startProbe(node: string): void {
    this.#probes.set(
      node,
      setInterval(() => {
        this.#options.transport.request(node, "ping", "", PROBE_INTERVAL_MS)
          .catch((error) => {
            if (error instanceof NodeGoneError) this.nodeDead(node);
          });
      }, PROBE_INTERVAL_MS),
    );
  }

  #stopProbe(node: string): void {
    clearInterval(this.#probes.get(node));
    this.#probes.delete(node);
    this.#waiting.delete(node);
  }

  #failed(sender: string, receiver: string, why: string): void {
    logDeliveryFailed(this.#options.log, { sender, receiver, why });
  }
}
