/**
 * A browser user's links: one WebSocket carries both the command link (the
 * page's commands in, their replies out) and the chat link (chat out, the
 * page's receipts back), each frame told apart by its kind (`frames.ts`).
 * To the session it is a link like La and Lb over TCP.
 *
 * @module
 */

import type { LineResult } from "../net/line_reader.ts";
import { RECEIPT_SUCCESSFUL } from "../protocol.ts";
import type {
  ChatLink,
  ChatLinkListener,
  CommandLink,
} from "../server/links.ts";
import type { Session } from "../server/session.ts";
import {
  chatFrame,
  helloFrame,
  noticeFrame,
  parseClientFrame,
  replyFrame,
} from "./frames.ts";

/** WebSocket close codes the server uses. */
export const CloseCode = {
  /** The session ended: `/exit`, a login timeout, a dropped receiver. */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** The page broke a bound: too many commands ahead, or not reading. */
  POLICY: 1008,
  /** The connection limit is reached. */
  TRY_AGAIN_LATER: 1013,
} as const;

/**
 * Commands a page may send while the session holds back (it already has
 * its own pipeline of 16): past these, the connection is closed, as a TCP
 * client would instead be left unread.
 */
export const MAX_BACKLOG = 16;

/** What a {@linkcode WebClientLink} needs to know. */
export interface WebLinkOptions {
  /** The client's IP address. */
  address: string;
  /** The client's address and port, for the log. */
  peer: string;
  /** Longest accepted line in bytes. */
  maxLineBytes: number;
}

const RESOLVED = Promise.resolve();

/**
 * Output a page may leave unread before it counts as stalled. A page that
 * reads holds at most one chat line and a few replies.
 */
function maxBufferedBytes(maxLineBytes: number): number {
  return Math.max(1024 * 1024, 4 * maxLineBytes);
}

/** A browser user's WebSocket, as the session's command link. */
export class WebClientLink implements CommandLink {
  /** The client's IP address. */
  readonly address: string;
  /** The client's address and port. */
  readonly peer: string;
  readonly #socket: WebSocket;
  readonly #maxLineBytes: number;
  readonly #maxBuffered: number;
  readonly #ended = Promise.withResolvers<string>();
  #session: Session | undefined;
  #listener: ChatLinkListener | undefined;
  /** Set while the session holds back; commands then wait in the backlog. */
  #held: Promise<void> | undefined;
  #backlog: LineResult[] = [];
  /** Why this end closed the socket, when it did. */
  #closedBecause: string | undefined;

  /** Takes over a WebSocket the gateway has just upgraded. */
  constructor(socket: WebSocket, options: WebLinkOptions) {
    this.#socket = socket;
    this.address = options.address;
    this.peer = options.peer;
    this.#maxLineBytes = options.maxLineBytes;
    this.#maxBuffered = maxBufferedBytes(options.maxLineBytes);
    socket.onmessage = (event) => this.#take(event.data);
    socket.onclose = (event) =>
      this.#ended.resolve(this.#closedBecause ?? describeClose(event));
    // An error is followed by a close event: that one ends the session.
    socket.onerror = () => {};
  }

  /** Whether the socket is closing or closed. */
  get closed(): boolean {
    return this.#socket.readyState >= WebSocket.CLOSING;
  }

  /** Resolves once the socket has closed, with the cause. */
  get ended(): Promise<string> {
    return this.#ended.promise;
  }

  /**
   * Hands each command to `session` until the socket closes, then ends the
   * session. Never rejects.
   */
  serve(session: Session): Promise<void> {
    this.#session = session;
    this.write(helloFrame(this.#maxLineBytes)).catch(() => {});
    return this.#ended.promise.then((cause) => session.end(cause));
  }

  /** Writes a reply. */
  send(line: string): Promise<void> {
    return this.write(replyFrame(line));
  }

  /** Closes the socket; its close event ends the session. */
  close(): void {
    this.shut(CloseCode.NORMAL, "");
  }

  /** Closes the socket with `code`, giving the page `reason`. */
  shut(code: number, reason: string): void {
    if (this.closed) return;
    this.#closedBecause ??= reason || undefined;
    try {
      this.#socket.close(code, reason);
    } catch {
      // Not open yet or already going: nothing more to close.
    }
  }

  /**
   * Closes the socket for breaking a bound, and logs the user out at once
   * with that cause: a page that does not read may leave the close
   * handshake hanging until the idle timeout.
   */
  #drop(why: string): void {
    this.shut(CloseCode.POLICY, why);
    this.#session?.drop(why);
  }

  /** The chat link: the same socket, its receipts going to `listener`. */
  attachChat(listener: ChatLinkListener): ChatLink {
    this.#listener = listener;
    return new WebChatLink(this);
  }

  /** Writes one frame; a page that leaves too much unread is dropped. */
  write(frame: string): Promise<void> {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("WebSocket closed"));
    }
    this.#socket.send(frame);
    if (this.#socket.bufferedAmount > this.#maxBuffered) {
      this.#drop("stopped reading what the server sends");
      return Promise.reject(new Error("WebSocket stalled"));
    }
    return RESOLVED;
  }

  #take(data: unknown): void {
    const session = this.#session;
    if (session === undefined) return;
    const frame = parseClientFrame(data, this.#maxLineBytes);
    switch (frame.kind) {
      case "received":
        // With no chat link yet, or nothing in flight, it answers nothing.
        this.#listener?.takeReply(RECEIPT_SUCCESSFUL);
        return;
      case "command":
        this.#command(session, frame.line);
        return;
      case "refused":
        this.write(noticeFrame(`refused: ${frame.why}`)).catch(() => {});
        this.#command(session, frame.mark);
    }
  }

  #command(session: Session, line: LineResult): void {
    if (this.#held === undefined) {
      this.#receive(session, line);
    } else if (this.#backlog.length < MAX_BACKLOG) {
      this.#backlog.push(line);
    } else {
      // A page that keeps sending may see the connection drop before the
      // close frame: the notice goes first.
      const why = "too many commands ahead of their replies";
      this.write(noticeFrame(`closing: ${why}`)).catch(() => {});
      this.#drop(why);
    }
  }

  #receive(session: Session, line: LineResult): void {
    const held = session.receive(line);
    if (held === undefined) return;
    this.#held = held;
    held.then(() => {
      this.#held = undefined;
      while (this.#held === undefined && this.#backlog.length > 0) {
        this.#receive(session, this.#backlog.shift()!);
      }
    });
  }
}

/** The chat side of a browser user's socket. */
class WebChatLink implements ChatLink {
  readonly #link: WebClientLink;

  constructor(link: WebClientLink) {
    this.#link = link;
  }

  get closed(): boolean {
    return this.#link.closed;
  }

  send(text: string, _bytes: Uint8Array): Promise<void> {
    const frame = chatFrame(text);
    if (frame === undefined) {
      return Promise.reject(new Error(`not a chat line: ${text}`));
    }
    return this.#link.write(frame);
  }

  close(): void {
    this.#link.close();
  }
}

/** Why a socket closed, in the words of the log. */
function describeClose(event: CloseEvent): string {
  if (event.code === 1000 || event.code === 1001 || event.code === 1005) {
    return "disconnected";
  }
  if (event.code === 1006 || event.code === 0) return "connection lost";
  return `closed with code ${event.code}${
    event.reason ? `: ${event.reason}` : ""
  }`;
}
