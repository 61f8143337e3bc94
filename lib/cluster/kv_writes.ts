/**
 * Writes to the presence bucket, made directly as JetStream publishes on the
 * node's request multiplexer: a create is a publish that expects the key's
 * last revision (0 for a key never written, or the revision of its delete
 * marker), a delete is a delete marker that expects the key's revision.
 * JetStream answers with the new revision, or with error 10071 when the
 * expected revision is not the key's.
 *
 * The NATS client's key-value API does the same with a request, two error
 * objects and a timer each; at thousands of logins a second that garbage
 * weighed on memory as much as the users themselves.
 *
 * @module
 */

import { headers, type MsgHdrs } from "@nats-io/transport-node";
import type { Requests } from "./requests.ts";

// JetStream's answer when the expected last revision is not the key's.
const WRONG_LAST_SEQUENCE = 10071;
const EXPECTED_LAST = "Nats-Expected-Last-Subject-Sequence";
const OPERATION = "KV-Operation";
// A delete marker carries no value.
const EMPTY = "";

/** A JetStream error answer. */
export class JetStreamError extends Error {
  /** JetStream's error code, such as 10071. */
  readonly code: number;

  /** The error JetStream answered with. */
  constructor(code: number, description: string) {
    super(description);
    this.name = "JetStreamError";
    this.code = code;
  }
}

/** How a publish to the bucket ended. */
type Outcome = { revision: number } | { wrongLast: true };

/** Creates and deletes keys of one bucket. */
export class KvWrites {
  readonly #requests: Requests;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  /** Writes to `bucket` through `requests`, each within `timeoutMs`. */
  constructor(requests: Requests, bucket: string, timeoutMs: number) {
    this.#requests = requests;
    this.#prefix = `$KV.${bucket}.`;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Writes `value` under `key` if the key's last revision is `expected` (0:
   * never written); `undefined` if it is not. Rejects on a fault, when the
   * outcome is unknown.
   */
  async create(
    key: string,
    value: string,
    expected: number,
  ): Promise<number | undefined> {
    const outcome = await this.#publish(key, value, expected);
    return "revision" in outcome ? outcome.revision : undefined;
  }

  /** Deletes `key` if its last revision is `revision`; false if not. */
  async delete(key: string, revision: number): Promise<boolean> {
    const outcome = await this.#publish(key, EMPTY, revision, "DEL");
    return "revision" in outcome;
  }

  async #publish(
    key: string,
    value: string,
    expected: number,
    operation?: string,
  ): Promise<Outcome> {
    const h: MsgHdrs = headers();
    h.set(EXPECTED_LAST, String(expected));
    if (operation !== undefined) h.set(OPERATION, operation);
    const answer = JSON.parse(
      await this.#requests.request(
        this.#prefix + key,
        value,
        this.#timeoutMs,
        h,
      ),
    ) as { seq?: number; error?: { err_code?: number; description?: string } };
    if (answer.error !== undefined) {
      if (answer.error.err_code === WRONG_LAST_SEQUENCE) {
        return { wrongLast: true };
      }
      throw new JetStreamError(
        answer.error.err_code ?? 0,
        answer.error.description ?? "JetStream error",
      );
    }
    if (typeof answer.seq !== "number") {
      throw new Error("JetStream answered without a revision");
    }
    return { revision: answer.seq };
  }
}
