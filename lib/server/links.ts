/**
 * The two links a session talks to its client through: the command link
 * (La for a terminal client) and the chat link (Lb). A terminal client's are
 * TCP connections (`tcp_link.ts`); another kind of client brings its own.
 *
 * @module
 */

import type { LineResult } from "../net/line_reader.ts";

/** Where a user's incoming chat goes: Lb for a terminal client. */
export interface ChatLink {
  /**
   * Writes one chat line, given both as text and as the bytes of the line
   * with its `\n` (a link over TCP writes the bytes); rejects if the link is
   * broken.
   */
  send(text: string, bytes: Uint8Array): Promise<void>;
  /** Closes the link. */
  close(): void;
  /** Whether the link has been closed. */
  readonly closed: boolean;
}

/** How an attempt to open a chat link ended. */
export type OpenChatResult =
  | { link: ChatLink; target: string }
  | { error: string; target: string };

/** Where what comes back on a chat link goes: the receiver's inbox. */
export interface ChatLinkListener {
  /** A line came back on the link. */
  takeReply(line: LineResult): void;
  /** The link has ended. */
  linkEnded(cause: string): void;
}

/** The link a client's commands come in on and replies go out on. */
export interface CommandLink {
  /** The client's IP address: failed logins are counted per address. */
  readonly address: string;
  /** The client's address and port, for the log. */
  readonly peer: string;
  /** Writes one reply; rejects if the link is broken. */
  send(line: string): Promise<void>;
  /** Closes the link; its reader then ends the session. */
  close(): void;
  /**
   * Opens the chat link on `/port`, aborted by `signal`; what comes back on
   * it goes to `listener`. A link that carries chat itself has none, and
   * `/port` is then not a command.
   */
  openChat?(
    port: number,
    listener: ChatLinkListener,
    signal: AbortSignal,
  ): Promise<OpenChatResult>;
  /**
   * The chat link that comes with this link, for a link that carries chat
   * itself: called once at login with the inbox that takes what comes back
   * on it.
   */
  attachChat?(listener: ChatLinkListener): ChatLink;
}
