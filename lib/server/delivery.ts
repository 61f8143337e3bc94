/**
 * Delivery: `/to` and `/toall`, each message an exchange on the receiver's
 * link under the receiver's lock (see {@linkcode Inbox.exchange}).
 *
 * {@linkcode Delivery} is the seam a cluster replaces: a single server
 * reaches receivers in its own memory ({@linkcode LocalDelivery}); a cluster
 * node also reaches the ones on other nodes.
 *
 * @module
 */

import type { TimeoutQueue } from "../async/timeout_queue.ts";
import { encodeLine } from "../net/line_connection.ts";
import { formatDelivery, RECEIPT_SUCCESSFUL } from "../protocol.ts";
import {
  type ExchangeOptions,
  type Inbox,
  RECEIVER_LEFT,
  TIMED_OUT,
  TOO_LATE,
} from "./inbox.ts";
import type { EventLog } from "./log.ts";
import type { Registry } from "./registry.ts";

/** How chat reaches its receivers. */
export interface Delivery {
  /**
   * `/to`: delivers `content` from `sender` to `target`; true once the
   * receiver acknowledged it with `302`.
   */
  sendTo(sender: string, target: string, content: string): Promise<boolean>;
  /**
   * `/toall`: delivers `content` from `sender` to every other online user
   * at once; true only if every one of them acknowledged it.
   */
  sendToAll(sender: string, content: string): Promise<boolean>;
}

/** A chat line as text and as the bytes that carry it over TCP. */
export interface ChatLine {
  /** The line without its `\n`. */
  text: string;
  /** The line with its `\n`, encoded. */
  bytes: Uint8Array;
}

/** What a {@linkcode LocalDelivery} works with. */
export interface LocalDeliveryOptions {
  /** The reply timeout: how long a receiver has to answer. */
  replies: TimeoutQueue;
  /** Where deliveries and their failures are logged. */
  log: EventLog;
}

/** Delivery to the users online on this server. */
export class LocalDelivery implements Delivery {
  readonly #registry: Registry;
  readonly #replies: TimeoutQueue;
  readonly #log: EventLog;

  /** Delivers to the local users of `registry`. */
  constructor(registry: Registry, options: LocalDeliveryOptions) {
    this.#registry = registry;
    this.#replies = options.replies;
    this.#log = options.log;
  }

  /** Whether `name` is online on this server. */
  has(name: string): boolean {
    return this.#registry.local(name) !== undefined;
  }

  /** `/to` a user online on this server; false for anyone else. */
  async sendTo(
    sender: string,
    target: string,
    content: string,
    options: ExchangeOptions = {},
  ): Promise<boolean> {
    const receiver = this.#registry.local(target);
    if (receiver === undefined || !receiver.ready) {
      this.#failed(sender, target, "not online with Lb", 0);
      return false;
    }
    const text = formatDelivery({ kind: "from", sender, content });
    return await this.deliver(
      sender,
      receiver,
      { text, bytes: encodeLine(text) },
      options,
    );
  }

  /**
   * `/toall` to every other user online on this server who has a chat
   * link, all at once; true if every one acknowledged (or there is nobody).
   */
  async sendToAll(
    sender: string,
    content: string,
    options: ExchangeOptions = {},
  ): Promise<boolean> {
    const text = formatDelivery({ kind: "broadcastfrom", sender, content });
    // Encoded once for every receiver.
    const line = { text, bytes: encodeLine(text) };
    const deliveries: Promise<boolean>[] = [];
    for (const receiver of this.#registry.locals()) {
      if (receiver.name !== sender && receiver.ready) {
        deliveries.push(this.deliver(sender, receiver, line, options));
      }
    }
    const results = await Promise.all(deliveries);
    return results.every(Boolean);
  }

  /**
   * One exchange with `receiver`, logged; true only for a `302` within the
   * reply timeout. A receiver that does not answer in time, or whose link
   * breaks, is logged out.
   */
  async deliver(
    sender: string,
    receiver: Inbox,
    line: ChatLine,
    options: ExchangeOptions = {},
  ): Promise<boolean> {
    const started = performance.now();
    const receipt = await receiver.exchange(
      line.text,
      line.bytes,
      this.#replies,
      options,
    );
    const ms = performance.now() - started;
    if (receipt === RECEIPT_SUCCESSFUL) {
      // Built only when logged: this is the hot path.
      if (this.#log.info) {
        this.#log.emit({
          level: "info",
          event: "delivery",
          message: `${sender} -> ${receiver.name}: delivered in ${
            ms.toFixed(1)
          } ms`,
          user: sender,
          to: receiver.name,
          ms,
        });
      }
      return true;
    }
    let why: string;
    if (receipt === RECEIVER_LEFT) {
      why = "receiver left";
    } else if (receipt === TOO_LATE) {
      why = "waited too long for the receiver's turn";
    } else if (receipt === TIMED_OUT) {
      why = `no receipt within ${this.#replies.delayMs} ms`;
      receiver.owner.drop(why);
    } else if (receipt === null) {
      why = "Lb broke";
      receiver.owner.drop("Lb broke during a delivery");
    } else {
      why = typeof receipt === "string"
        ? `answered ${JSON.stringify(receipt)} instead of a receipt`
        : "answered an unreadable line";
    }
    this.#failed(sender, receiver.name, why, ms);
    return false;
  }

  #failed(sender: string, receiver: string, why: string, ms: number): void {
    logDeliveryFailed(this.#log, { sender, receiver, why, ms });
  }
}

/** A message that did not reach its receiver, for the log. */
export interface DeliveryFailure {
  /** Who sent it. */
  sender: string;
  /** Who it was for: a user, or a node for a `/toall`'s share. */
  receiver: string;
  /** Why it failed. */
  why: string;
  /** How long it took to fail, in milliseconds, if known. */
  ms?: number;
}

/** Logs `failure` as a `delivery-failed` event. */
export function logDeliveryFailed(
  log: EventLog,
  failure: DeliveryFailure,
): void {
  const { sender, receiver, why, ms } = failure;
  log.emit({
    level: "error",
    event: "delivery-failed",
    message: `${sender} -> ${receiver}: ${why}`,
    user: sender,
    to: receiver,
    cause: why,
    ms,
  });
}
