/**
 * Requests between nodes over NATS, multiplexed on one reply subscription.
 *
 * The NATS client's own `request` builds two error objects with stack traces
 * and a timer for every request, which at thousands of deliveries a second
 * cost more than the rest of the delivery together. Here a request is one
 * publish, one map entry and one entry in a shared {@linkcode TimeoutQueue}.
 * When no one subscribes to the subject, NATS answers at once with a status
 * 503 and no data: "no responders".
 *
 * @module
 */

import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { TimeoutQueue } from "../async/timeout_queue.ts";
import type { TimeoutEntry } from "../async/timeout_queue.ts";

/** No one subscribes to a request's subject. */
export class NoRespondersError extends Error {
  /** The error for a request to `subject`. */
  constructor(subject: string) {
    super(`no one answers on ${subject}`);
    this.name = "NoRespondersError";
  }
}

const NO_RESPONDERS = 503;

interface Pending {
  resolve: (answer: string) => void;
  reject: (error: Error) => void;
  subject: string;
  timeout: TimeoutEntry;
}

/** Requests and their answers over one NATS connection. */
export class Requests {
  readonly #nc: NatsConnection;
  readonly #inbox: string;
  readonly #pending = new Map<string, Pending>();
  readonly #timeouts = new Map<number, TimeoutQueue>();
  #next = 0;

  /** Subscribes to the replies; `inbox` is a subject prefix unique to this node. */
  constructor(nc: NatsConnection, inbox: string) {
    this.#nc = nc;
    this.#inbox = `${inbox}.`;
    nc.subscribe(`${this.#inbox}*`, {
      callback: (error, msg) => {
        if (error) return;
        const id = msg.subject.slice(this.#inbox.length);
        const pending = this.#pending.get(id);
        if (pending === undefined) return; // late: it timed out
        this.#pending.delete(id);
        pending.timeout.cancel();
        if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS) {
          pending.reject(new NoRespondersError(pending.subject));
        } else {
          pending.resolve(msg.string());
        }
      },
    });
  }

  /**
   * Publishes `payload` to `subject`, with `headers` if given, and resolves
   * to the answer; rejects with {@linkcode NoRespondersError}, or after
   * `timeoutMs`.
   */
  request(
    subject: string,
    payload: string,
    timeoutMs: number,
    headers?: MsgHdrs,
  ): Promise<string> {
    const id = (this.#next++).toString(36);
    return new Promise((resolve, reject) => {
      const timeout = this.#timeoutsOf(timeoutMs).add(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer on ${subject} within ${timeoutMs} ms`));
      });
      this.#pending.set(id, { resolve, reject, subject, timeout });
      try {
        this.#nc.publish(subject, payload, {
          reply: this.#inbox + id,
          headers,
        });
      } catch (error) {
        this.#pending.delete(id);
        timeout.cancel();
        reject(error);
      }
    });
  }

  /** Fails every request waiting for an answer: the link has dropped. */
  failAll(why: string): void {
    for (const pending of this.#pending.values()) {
      pending.timeout.cancel();
      pending.reject(new Error(why));
    }
    this.#pending.clear();
  }

  /** Fails what waits and stops the timers. */
  close(): void {
    this.failAll("closed");
    for (const queue of this.#timeouts.values()) queue.close();
  }

  #timeoutsOf(ms: number): TimeoutQueue {
    let queue = this.#timeouts.get(ms);
    if (queue === undefined) {
      queue = new TimeoutQueue(ms);
      this.#timeouts.set(ms, queue);
    }
    return queue;
  }
}
