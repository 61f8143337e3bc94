/**
 * A user's receiving side: the link that carries chat to them (Lb for a
 * terminal client), guarded by a lock so that it carries one exchange at a
 * time, and the exchange itself: a chat line out, one reply back.
 *
 * @module
 */

import { AsyncLock } from "../async/async_lock.ts";
import type { TimeoutQueue } from "../async/timeout_queue.ts";
import type { LineResult } from "../net/line_reader.ts";
import type { ChatLink, ChatLinkListener } from "./links.ts";

/** What an inbox needs from the session that owns it. */
export interface InboxOwner {
  /** Ends the owner's session: its chat link failed during an exchange. */
  drop(cause: string): void;
  /** The chat link has ended; a session still going ends with it. */
  chatLinkEnded(cause: string): void;
  /** Told of each line crossing the chat link. */
  trace?(from: "CLIENT" | "SERVER", line: LineResult): void;
}

/** No reply came within the reply timeout. */
export const TIMED_OUT: unique symbol = Symbol("timed out");
/** The receiver was no longer taking chat when its turn came. */
export const RECEIVER_LEFT: unique symbol = Symbol("receiver left");
/** The receiver's turn came after the exchange's start-by time. */
export const TOO_LATE: unique symbol = Symbol("too late");

/**
 * How an exchange ended: the reply line (or an unreadable one), `null` if the
 * link broke, {@linkcode TIMED_OUT}, {@linkcode RECEIVER_LEFT} or
 * {@linkcode TOO_LATE}.
 */
export type Receipt =
  | LineResult
  | null
  | typeof TIMED_OUT
  | typeof RECEIVER_LEFT
  | typeof TOO_LATE;

/** Options for {@linkcode Inbox.exchange}. */
export interface ExchangeOptions {
  /**
   * The latest time, on `performance.now()`'s clock, at which the exchange
   * may start: past it, the chat line is not sent. A remote sender gives up
   * waiting at some point, and a line sent after that would be delivered
   * while the sender is told it failed.
   */
  startBy?: number;
}

/**
 * One online user's receiving side. It takes chat once a chat link is
 * attached, until {@linkcode Inbox.stopTaking} or {@linkcode Inbox.close}.
 */
export class Inbox implements ChatLinkListener {
  /** The user the chat is for. */
  readonly name: string;
  /** Held by the sender whose exchange is on the link. */
  readonly lock: AsyncLock = new AsyncLock();
  readonly #owner: InboxOwner;
  #link: ChatLink | undefined;
  #taking = true;
  #awaiting: ((receipt: Receipt) => void) | undefined;

  /** An inbox for `name`, with no link yet. */
  constructor(name: string, owner: InboxOwner) {
    this.name = name;
    this.#owner = owner;
  }

  /** Whether chat can be delivered: a link is attached and still taking. */
  get ready(): boolean {
    return this.#taking && this.#link !== undefined;
  }

  /** Whether a chat link is attached and open. */
  get linked(): boolean {
    return this.#link !== undefined && !this.#link.closed;
  }

  /** The owner's session, to end it when the link fails. */
  get owner(): InboxOwner {
    return this.#owner;
  }

  /** Attaches the link chat will travel on. */
  attach(link: ChatLink): void {
    this.#link = link;
  }

  /**
   * Hands a line that came back on the link to the exchange in flight; with
   * none in flight the line answers nothing and is dropped.
   */
  takeReply(line: LineResult): void {
    this.#owner.trace?.("CLIENT", line);
    const settle = this.#awaiting;
    this.#awaiting = undefined;
    settle?.(line);
  }

  /** The chat link has ended: so has the owner's session, if still going. */
  linkEnded(cause: string): void {
    this.#owner.chatLinkEnded(cause);
  }

  /** Turns away every exchange from now on; the one in flight finishes. */
  stopTaking(): void {
    this.#taking = false;
  }

  /** Stops taking chat, closes the link, and fails the exchange in flight. */
  close(): void {
    this.#taking = false;
    this.#link?.close();
    const settle = this.#awaiting;
    this.#awaiting = undefined;
    settle?.(null);
  }

  /**
   * One exchange, under the lock: `text` out (as `bytes` on a byte link),
   * the reply back, within `replies`' delay.
   */
  async exchange(
    text: string,
    bytes: Uint8Array,
    replies: TimeoutQueue,
    options: ExchangeOptions = {},
  ): Promise<Receipt> {
    using _held = await this.lock.acquire();
    const link = this.#link;
    if (!this.#taking || link === undefined) return RECEIVER_LEFT;
    if (options.startBy !== undefined && performance.now() > options.startBy) {
      return TOO_LATE;
    }
    const reply = Promise.withResolvers<Receipt>();
    this.#awaiting = reply.resolve;
    const timeout = replies.add(() => reply.resolve(TIMED_OUT));
    this.#owner.trace?.("SERVER", text);
    // A write that fails settles the exchange at once; the link's reader
    // sees the broken link too.
    link.send(text, bytes).catch(() => reply.resolve(null));
    const receipt = await reply.promise;
    timeout.cancel();
    this.#awaiting = undefined;
    return receipt;
  }
}
