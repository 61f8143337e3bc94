/**
 * A browser user without a browser, for the gateway tests: a WebSocket that
 * speaks the web client's frames (`docs/web.md`), written out here from the
 * document rather than taken from the server's code. Frames are queued by
 * kind as they arrive; every wait has a deadline.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadUsers, startServer } from "../../lib/server/mod.ts";
import type { ChatServer, ServerOptions } from "../../lib/server/mod.ts";
import { passwordOf, USERS_FILE } from "./target.ts";
import { type Address, WirePeer } from "./wire_peer.ts";

/** Default time a test waits for a frame, in milliseconds. */
export const FRAME_TIMEOUT_MS = 3000;

/** A reply frame: the line, its code, and the names of a `301`. */
export interface ReplyFrame {
  reply: string;
  code: number;
  names?: string[];
}

/** A chat frame's message. */
export interface ChatMessage {
  kind: "from" | "broadcastfrom";
  sender: string;
  content: string;
}

/** How the socket closed. */
export interface Closed {
  code: number;
  reason: string;
}

type Kind = "hello" | "reply" | "chat" | "notice";

/** Options of {@linkcode WebPeer.connect}. */
export interface WebPeerOptions {
  /** The Origin header to send, as a page of that origin would. */
  origin?: string;
  /** Whether chat is confirmed with `{"op":"received"}` at once (default true). */
  autoReceipt?: boolean;
  /** Name used in failure messages. */
  name?: string;
}

/** One WebSocket client of the gateway. */
export class WebPeer {
  /** The socket. */
  readonly socket: WebSocket;
  /** Name used in failure messages. */
  name: string;
  /** Whether chat is confirmed at once; may be changed at any time. */
  autoReceipt: boolean;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<Closed>;
  readonly #queues: Record<Kind, unknown[]> = {
    hello: [],
    reply: [],
    chat: [],
    notice: [],
  };
  readonly #waiters: Record<Kind, (() => void)[]> = {
    hello: [],
    reply: [],
    chat: [],
    notice: [],
  };

  private constructor(socket: WebSocket, options: WebPeerOptions) {
    this.socket = socket;
    this.name = options.name ?? "web peer";
    this.autoReceipt = options.autoReceipt ?? true;
    this.closed = new Promise((resolve) => {
      socket.addEventListener("close", (event) => {
        resolve({ code: event.code, reason: event.reason });
        for (const waiters of Object.values(this.#waiters)) {
          for (const wake of waiters.splice(0)) wake();
        }
      });
    });
    socket.addEventListener("message", (event) => this.#take(event.data));
  }

  /** Opens a WebSocket to `url` and waits until it is open. */
  static async connect(
    url: string,
    options: WebPeerOptions = {},
  ): Promise<WebPeer> {
    const headers = options.origin === undefined
      ? undefined
      : { origin: options.origin };
    // Deno's WebSocket takes headers as a second-argument option.
    const socket = new WebSocket(url, { headers } as unknown as string[]);
    const peer = new WebPeer(socket, options);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener("open", () => resolve(), { once: true });
      socket.addEventListener(
        "error",
        () => reject(new Error(`${peer.name}: WebSocket did not open`)),
        { once: true },
      );
    });
    return peer;
  }

  #take(data: unknown): void {
    assert.equal(typeof data, "string", `${this.name}: a binary frame came`);
    const frame = JSON.parse(data as string) as Record<string, unknown>;
    const kind = (["hello", "reply", "chat", "notice"] as const).find((k) =>
      k in frame
    );
    assert.ok(kind, `${this.name}: unknown frame ${data}`);
    if (kind === "chat" && this.autoReceipt) this.send({ op: "received" });
    this.#queues[kind].push(kind === "reply" ? frame : frame[kind]);
    this.#waiters[kind].shift()?.();
  }

  /** Sends a frame: an object as JSON, a string as is. */
  send(frame: object | string): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  async #next<T>(kind: Kind, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queues[kind].length === 0) {
      assert.ok(
        this.socket.readyState === WebSocket.OPEN,
        `${this.name}: socket closed while waiting for a ${kind} frame`,
      );
      const left = deadline - Date.now();
      assert.ok(left > 0, `${this.name}: no ${kind} frame in ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters[kind].push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.#queues[kind].shift() as T;
  }

  /** The next reply frame. */
  nextReply(timeoutMs = FRAME_TIMEOUT_MS): Promise<ReplyFrame> {
    return this.#next("reply", timeoutMs);
  }

  /** The next chat message. */
  nextChat(timeoutMs = FRAME_TIMEOUT_MS): Promise<ChatMessage> {
    return this.#next("chat", timeoutMs);
  }

  /** The next notice's text. */
  nextNotice(timeoutMs = FRAME_TIMEOUT_MS): Promise<string> {
    return this.#next("notice", timeoutMs);
  }

  /** The hello frame's contents. */
  hello(timeoutMs = FRAME_TIMEOUT_MS): Promise<{ maxLineBytes: number }> {
    return this.#next("hello", timeoutMs);
  }

  /** Frames of `kind` received and not yet read. */
  pending(kind: Kind): number {
    return this.#queues[kind].length;
  }

  /** Sends `frame` and asserts the reply line is `expected`. */
  async request(frame: object | string, expected: string): Promise<void> {
    this.send(frame);
    assert.equal((await this.nextReply()).reply, expected, this.name);
  }

  /** Logs in as fixture user `name`, asserting `101`. */
  async login(name: string, password = passwordOf(name)): Promise<void> {
    if (this.name === "web peer") this.name = name;
    await this.request(
      { op: "login", user: name, password },
      "101 Authentication successful",
    );
  }

  /** Asks `/list` and returns the names. */
  async list(): Promise<string[]> {
    this.send({ op: "list" });
    const reply = await this.nextReply();
    assert.equal(reply.code, 301, `${this.name}: ${reply.reply}`);
    return reply.names ?? [];
  }

  /** Waits for the close, asserting it comes within `timeoutMs`. */
  async expectClosed(timeoutMs = FRAME_TIMEOUT_MS): Promise<Closed> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    try {
      const closed = await Promise.race([this.closed, late]);
      assert.notEqual(closed, "late", `${this.name}: still open`);
      return closed as Closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the socket and waits until it has closed. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    await this.closed;
  }
}

/** An in-process server with its web port, and the peers a test opened. */
export class WebTarget implements AsyncDisposable {
  /** The server. */
  readonly server: ChatServer;
  /** The TCP address for terminal peers. */
  readonly address: Address;
  /** The WebSocket's URL. */
  readonly wsUrl: string;
  /** The page's origin, as a browser would name it. */
  readonly origin: string;
  readonly #peers: WebPeer[] = [];
  readonly #terminals: WirePeer[] = [];

  private constructor(server: ChatServer) {
    this.server = server;
    this.address = { hostname: server.hostname, port: server.port };
    const web = server.web!;
    this.wsUrl = `ws://127.0.0.1:${web.port}/ws`;
    this.origin = `http://127.0.0.1:${web.port}`;
  }

  /** Starts a server on loopback with a web port and short timeouts. */
  static async start(options: ServerOptions = {}): Promise<WebTarget> {
    const server = startServer(await loadUsers(USERS_FILE), {
      hostname: "127.0.0.1",
      replyTimeoutMs: 500,
      connectTimeoutMs: 1000,
      log: () => {},
      ...options,
      web: { port: 0, ...options.web },
    });
    return new WebTarget(server);
  }

  /** A new peer with a same-origin page's Origin header. */
  async connect(options: WebPeerOptions = {}): Promise<WebPeer> {
    const peer = await WebPeer.connect(this.wsUrl, {
      origin: this.origin,
      ...options,
    });
    this.#peers.push(peer);
    return peer;
  }

  /** A new peer logged in as fixture user `name`. */
  async login(name: string, options: WebPeerOptions = {}): Promise<WebPeer> {
    const peer = await this.connect({ name, ...options });
    await peer.login(name);
    return peer;
  }

  /**
   * A terminal user: a wire peer logged in as fixture user `name`, its Lb
   * built and answering `302` by itself.
   */
  async terminal(name: string): Promise<WirePeer> {
    const peer = await this.terminalPeer(name);
    await peer.join(name, passwordOf(name));
    return peer;
  }

  /** A terminal client's La, connected and not logged in. */
  async terminalPeer(name = "terminal"): Promise<WirePeer> {
    const peer = await WirePeer.connect(this.address, { name });
    this.#terminals.push(peer);
    return peer;
  }

  /** Closes every peer, then the server. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all([
      ...this.#peers.map((peer) => peer.close()),
      ...this.#terminals.map((peer) => peer.close()),
    ]);
    await this.server.close();
  }
}
