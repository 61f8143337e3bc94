/**
 * Links without sockets, for unit tests of the server's parts: a command
 * link (La) and a chat link (Lb) that record what the server wrote on them
 * and let a test answer, break, stall or close them.
 *
 * They behave as the TCP links do where a part can tell: a write on a closed
 * link rejects, and a chat link that closes, from either end, tells its
 * listener (as the TCP link's reader does) a moment later.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { LineResult } from "../../lib/net/line_reader.ts";
import type {
  ChatLink,
  ChatLinkListener,
  CommandLink,
  OpenChatResult,
} from "../../lib/server/links.ts";

/** The error a write on a closed or broken fake link rejects with. */
export class LinkBroken extends Error {
  /** Creates the error. */
  constructor(message = "link broken") {
    super(message);
    this.name = "LinkBroken";
  }
}

/** A fake Lb: records the chat lines written, and answers when told. */
export class FakeChatLink implements ChatLink {
  /** The chat lines written, as text. */
  readonly sent: string[] = [];
  /** The same lines, as the bytes handed to the link. */
  readonly sentBytes: Uint8Array[] = [];
  /** Why the link ended, once its listener was told. */
  endedWith: string | undefined;
  readonly #listener: ChatLinkListener | undefined;
  #closed = false;
  #broken = false;

  /** A link whose replies (and end) go to `listener`. */
  constructor(listener?: ChatLinkListener) {
    this.#listener = listener;
  }

  /** Whether the link has been closed, by either end. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Records the line; rejects if the link is closed or broken. */
  send(text: string, bytes: Uint8Array): Promise<void> {
    if (this.#closed || this.#broken) {
      return Promise.reject(new LinkBroken("write on a broken Lb"));
    }
    this.sent.push(text);
    this.sentBytes.push(bytes);
    return Promise.resolve();
  }

  /** The server closes the link. */
  close(): void {
    this.#end("Lb closed");
  }

  /** From now on every write fails, as on a reset connection. */
  break(): void {
    this.#broken = true;
  }

  /** The client answers `line` on the link. */
  reply(line: LineResult): void {
    assert.ok(this.#listener !== undefined, "this link has no listener");
    assert.ok(!this.#closed, "a reply on a closed link");
    this.#listener.takeReply(line);
  }

  /** The client closes its end of the link. */
  hangUp(): void {
    this.#end("Lb closed by the client");
  }

  #end(cause: string): void {
    if (this.#closed) return;
    this.#closed = true;
    // Told after the caller returns, as a reader learns of the end.
    queueMicrotask(() => {
      this.endedWith = cause;
      this.#listener?.linkEnded(cause);
    });
  }
}

/** How a fake command link opens its chat link on `/port`. */
export type ChatOpener = (
  port: number,
  listener: ChatLinkListener,
  signal: AbortSignal,
) => Promise<OpenChatResult>;

/** Options for {@linkcode FakeCommandLink}. */
export interface FakeCommandLinkOptions {
  /** The client's IP address. Default `192.0.2.1`. */
  address?: string;
  /** The client's port, for `peer`. Default 40000. */
  port?: number;
  /**
   * How `/port` opens Lb: by default a {@linkcode FakeChatLink} at once;
   * `null` for a link that has no `/port`.
   */
  openChat?: ChatOpener | null;
  /** A chat link that comes with the command link. */
  chat?: ChatLink;
}

/** A fake La: records the replies written; writes can be made to stall. */
export class FakeCommandLink implements CommandLink {
  /** The client's IP address. */
  readonly address: string;
  /** The client's address and port. */
  readonly peer: string;
  /** Hands over the chat link that comes with this link, if it has one. */
  readonly attachChat?: (listener: ChatLinkListener) => ChatLink;
  /** Opens Lb on `/port`; absent on a link that has none. */
  readonly openChat?: ChatOpener;
  /** The replies written, in order. */
  readonly replies: string[] = [];
  /** What happened on the link, in order: `reply <line>` and `close`. */
  readonly history: string[] = [];
  /** The chat links opened by the default `/port`. */
  readonly chatLinks: FakeChatLink[] = [];
  /** Told once when the server closes the link. */
  onClose: (() => void) | undefined;
  #closed = false;
  #stalled = false;
  readonly #pendingWrites: (() => void)[] = [];

  /** A link from `options.address`. */
  constructor(options: FakeCommandLinkOptions = {}) {
    this.address = options.address ?? "192.0.2.1";
    this.peer = `${this.address}:${options.port ?? 40000}`;
    const chat = options.chat;
    if (chat !== undefined) this.attachChat = () => chat;
    if (options.openChat !== null) {
      this.openChat = options.openChat ?? ((port, listener) => {
        const link = new FakeChatLink(listener);
        this.chatLinks.push(link);
        return Promise.resolve({ link, target: `${this.address}:${port}` });
      });
    }
  }

  /** Whether the server has closed the link. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The chat link opened on `/port`, if one was. */
  get lb(): FakeChatLink | undefined {
    return this.chatLinks[0];
  }

  /**
   * From now on the client takes no reply: a write never completes until
   * the link closes, and then it rejects.
   */
  stall(): void {
    this.#stalled = true;
  }

  /** Records the reply; rejects if the link is closed. */
  send(line: string): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new LinkBroken("write on a closed La"));
    }
    this.replies.push(line);
    this.history.push(`reply ${line}`);
    if (!this.#stalled) return Promise.resolve();
    return new Promise((_, reject) => {
      this.#pendingWrites.push(() => reject(new LinkBroken("La closed")));
    });
  }

  /** The server closes the link: stalled writes fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.history.push("close");
    for (const fail of this.#pendingWrites.splice(0)) fail();
    this.onClose?.();
  }
}
