/**
 * One simulated browser user of the load generator: a WebSocket client of
 * the web port speaking the page's frames (`docs/web.md`), with no browser.
 * It logs in, and from then on confirms every chat frame with
 * `{"op":"received"}` at once, as the page does once a message is shown.
 *
 * Like {@linkcode SimUser} it is built to be cheap: replies are matched to
 * commands first in, first out, with callbacks; chat frames are counted,
 * not parsed, unless a probe watches for a content.
 *
 * @module
 */

import { AUTH_SUCCESSFUL, parseCommand } from "../../lib/protocol.ts";
import type { LoadUser, ReplyHandler, Tally } from "./sim_user.ts";
import { wallClock } from "./sim_user.ts";
import { userName, userPassword } from "./users.ts";

const RECEIVED = JSON.stringify({ op: "received" });
const REPLY_PREFIX = '{"reply":';
const CHAT_PREFIX = '{"chat":';
// Replies are a handful of fixed frames: each is parsed once.
const replies = new Map<string, string>();

/** The frame that asks for what `line` asks for on La. */
export function frameFor(line: string): string {
  const command = parseCommand(line);
  switch (command.kind) {
    case "to":
      return JSON.stringify({
        op: "to",
        to: command.target,
        text: command.content,
      });
    case "toall":
      return JSON.stringify({ op: "toall", text: command.content });
    case "login":
      return JSON.stringify({
        op: "login",
        user: command.user,
        password: command.password,
      });
    case "list":
    case "exit":
      return JSON.stringify({ op: command.kind });
    default:
      throw new Error(`no frame for ${JSON.stringify(line)}`);
  }
}

/** One simulated browser user. */
export class WebSimUser implements LoadUser {
  /** The user's index: its name is `u<index>`. */
  readonly index: number;
  readonly #tally: Tally;
  #socket: WebSocket | undefined;
  #handlers: ReplyHandler[] = [];
  #lastProbe = -1;
  #closing = false;
  #dropped = false;

  /** A user that is not connected yet. */
  constructor(index: number, tally: Tally) {
    this.index = index;
    this.#tally = tally;
  }

  /** The user's name. */
  get name(): string {
    return userName(this.index);
  }

  /**
   * Opens the WebSocket to the web port and logs in; rejects (and closes)
   * on any failure or after `timeoutMs`.
   */
  async login(host: string, port: number, timeoutMs: number): Promise<void> {
    const timer = setTimeout(() => this.close(), timeoutMs);
    try {
      const socket = new WebSocket(`ws://${host}:${port}/ws`);
      this.#socket = socket;
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onclose = () => reject(new Error("WebSocket closed at once"));
      });
      socket.onmessage = (event) => this.#take(event.data);
      socket.onclose = () => this.#closed();
      socket.onerror = () => {};
      const reply = await this.request(
        `/login ${this.name} ${userPassword(this.index)}`,
      );
      if (reply !== AUTH_SUCCESSFUL) throw new Error(`login: ${reply}`);
    } catch (error) {
      this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The frame for a command line, made once for a loop to send again. */
  prepare(line: string): string {
    return frameFor(line);
  }

  /** Sends a prepared frame; `onReply` gets the reply line, in order. */
  send(frame: string, onReply: ReplyHandler): void {
    const socket = this.#socket;
    if (socket === undefined || this.#closing) {
      queueMicrotask(() => onReply(undefined));
      return;
    }
    this.#handlers.push(onReply);
    socket.send(frame);
  }

  /** Sends the frame for `line` and resolves to the reply line. */
  request(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.send(frameFor(line), (reply) => {
        if (reply !== undefined) resolve(reply);
        else reject(new Error(`socket closed before the reply to ${line}`));
      });
    });
  }

  /** Closes the socket; idempotent. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#socket?.close();
    } catch {
      // Not open yet.
    }
    this.#failPending();
  }

  #take(data: unknown): void {
    if (typeof data !== "string") return;
    if (data.startsWith(REPLY_PREFIX)) {
      let reply = replies.get(data);
      if (reply === undefined) {
        reply = (JSON.parse(data) as { reply: string }).reply;
        if (replies.size < 64 && !reply.startsWith("301")) {
          replies.set(data, reply);
        }
      }
      this.#handlers.shift()?.(reply);
    } else if (data.startsWith(CHAT_PREFIX)) {
      this.#tally.received++;
      if (this.#tally.probe !== undefined) this.#watch(data);
      this.#socket?.send(RECEIVED);
    }
  }

  #watch(data: string): void {
    const probe = this.#tally.probe;
    if (probe === undefined) return;
    const at = wallClock();
    const { chat } = JSON.parse(data) as { chat: { content: string } };
    if (!chat.content.endsWith(probe.token)) return;
    probe.times.push(at);
    if (this.#lastProbe !== probe.id) {
      this.#lastProbe = probe.id;
      probe.users++;
    }
  }

  #closed(): void {
    if (!this.#closing && !this.#dropped) {
      this.#dropped = true;
      this.#tally.dropped++;
    }
    this.#failPending();
  }

  #failPending(): void {
    const handlers = this.#handlers;
    this.#handlers = [];
    for (const handler of handlers) handler(undefined);
  }
}
