/**
 * The instant-messaging server: accepts clients on link La, authenticates
 * them, connects back to each for link Lb, and relays chat messages.
 *
 * Each connection is served by its own async task (the handout's thread per
 * connection), a {@linkcode Session}. Every user's Lb carries one exchange at
 * a time: a sender takes the receiver's lock, writes the chat line, waits for
 * the receiver's `302`, and releases (see `inbox.ts` and `delivery.ts`).
 *
 * Every wait is bounded: a receiver's reply, a reply written to a client that
 * does not read, the connection back for Lb, and a login, each by its own
 * timeout. Timeouts of one kind share a single timer ({@linkcode TimeoutQueue}).
 *
 * @module
 */

import { delay } from "../async/delay.ts";
import { TimeoutQueue } from "../async/timeout_queue.ts";
import { describeError } from "../errors.ts";
import { isLoopback, WebGateway } from "../web/gateway.ts";
import { Authenticator } from "./auth.ts";
import type { Backend, BackendContext } from "./backend.ts";
import { LocalDelivery } from "./delivery.ts";
import { EventLog } from "./log.ts";
import {
  DEFAULT_HOSTNAME,
  describeSettings,
  resolveSettings,
  type ServerOptions,
  type ServerSettings,
} from "./options.ts";
import type { CommandLink } from "./links.ts";
import { LocalRegistry } from "./registry.ts";
import { Session, type SessionServices } from "./session.ts";
import { TcpClientLink } from "./tcp_link.ts";

/**
 * A client's command link that reads itself, whatever carries it: La over
 * TCP, or a browser's WebSocket.
 */
export interface ClientLink extends CommandLink {
  /**
   * Hands each line to `session` until the link ends, then ends the
   * session; never rejects.
   */
  serve(session: Session): Promise<void>;
}

/** A read-only snapshot of what the server holds. */
export interface ServerStats {
  /** Open client connections (La, or a page's WebSocket). */
  connections: number;
  /** Users on the online list. */
  online: number;
  /** Open chat links (Lb, or a logged-in page's WebSocket). */
  lbLinks: number;
  /** Lb locks held by a sender. */
  locksHeld: number;
  /** Senders waiting for an Lb lock. */
  lockWaiters: number;
  /** Chat lines waiting for their receipt. */
  pendingReplies: number;
  /** Timeouts and delays running. */
  timers: number;
  /** Connections refused because of the connection limit, in total. */
  refusedConnections: number;
}

const ACCEPT_RETRY_MS = 100;
const REFUSAL_LOG_INTERVAL_MS = 1_000;

/**
 * A running server. Create it with {@linkcode startServer}; stop it with
 * {@linkcode ChatServer.close}.
 */
export class ChatServer implements AsyncDisposable {
  /** The limits the server runs with, defaults filled in. */
  readonly settings: Readonly<ServerSettings>;
  readonly #listener: Deno.TcpListener;
  readonly #web: WebGateway | undefined;
  readonly #log: EventLog;
  readonly #replies: TimeoutQueue;
  readonly #writes: TimeoutQueue;
  readonly #logins: TimeoutQueue;
  readonly #connects: TimeoutQueue;
  readonly #auth: Authenticator;
  readonly #backend: Backend;
  readonly #services: SessionServices;
  /** Every session, with the task that serves it. */
  readonly #sessions = new Map<Session, Promise<void>>();
  /** Other tasks: accepting, and reading each Lb. */
  readonly #tasks = new Set<Promise<void>>();
  readonly #shutdown = new AbortController();
  #refused = 0;
  #refusedUnlogged = 0;
  #lastRefusalLog = -Infinity;
  #closing: Promise<void> | undefined;

  /**
   * Starts listening at once; throws `Deno.errors.AddrInUse` and the like if
   * the address cannot be bound.
   */
  constructor(users: ReadonlyMap<string, string>, options: ServerOptions = {}) {
    const settings = resolveSettings(options);
    this.settings = settings;
    this.#log = new EventLog(options.log, options.logLevel);
    this.#replies = new TimeoutQueue(settings.replyTimeoutMs);
    this.#writes = new TimeoutQueue(settings.replyTimeoutMs);
    this.#logins = new TimeoutQueue(settings.loginTimeoutMs);
    this.#connects = new TimeoutQueue(settings.connectTimeoutMs);
    this.#auth = new Authenticator(users, {
      throttle: settings.loginThrottle,
      log: this.#log,
      signal: this.#shutdown.signal,
    });
    const hostname = options.hostname ?? DEFAULT_HOSTNAME;
    this.#listener = Deno.listen({ hostname, port: options.port ?? 0 });
    try {
      this.#web = options.web && new WebGateway({
        ...options.web,
        hostname: options.web.hostname ?? hostname,
        port: options.web.port ?? 0,
        maxLineBytes: settings.maxLineBytes,
        log: this.#log,
        admit: (link) => this.admit(link),
      });
    } catch (error) {
      this.#listener.close();
      throw error;
    }
    const context = { replies: this.#replies, log: this.#log };
    this.#backend = options.backend?.(context) ?? localBackend(context);
    this.#services = {
      log: this.#log,
      trace: options.trace,
      auth: this.#auth,
      registry: this.#backend.registry,
      delivery: this.#backend.delivery,
      writes: this.#writes,
      logins: this.#logins,
      ended: (session) => this.#sessions.delete(session),
    };
    this.#log.emit({
      level: "info",
      event: "started",
      message: `listening on ${this.hostname}:${this.port}: ${
        describeSettings(settings)
      }`,
    });
    if (this.#web !== undefined) this.#announceWeb(this.#web);
    this.#track(this.#acceptClients());
  }

  /** Where the web client is served, when it is. */
  get web(): { url: string; hostname: string; port: number } | undefined {
    const web = this.#web;
    return web && { url: web.url, hostname: web.hostname, port: web.port };
  }

  /**
   * Makes a client that came in by a way other than the TCP listener a
   * session, if the connection limit allows: true if admitted. The session
   * counts as a connection until its link ends, and `close` waits for it.
   */
  admit(link: ClientLink): boolean {
    if (this.#shutdown.signal.aborted) return false;
    if (this.#sessions.size >= this.settings.maxConnections) {
      this.#refuseConnection();
      return false;
    }
    const session = new Session(link, this.#services);
    this.#sessions.set(session, link.serve(session));
    return true;
  }

  /** The address the server listens on. */
  get hostname(): string {
    return this.#listener.addr.hostname;
  }

  /** The port the server listens on (the real one when `0` was asked for). */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Counts of what the server holds right now. */
  stats(): ServerStats {
    let lbLinks = 0;
    let locksHeld = 0;
    let lockWaiters = 0;
    for (const session of this.#sessions.keys()) {
      const inbox = session.inbox;
      if (inbox === undefined) continue;
      if (inbox.linked) lbLinks++;
      if (inbox.lock.locked) locksHeld++;
      lockWaiters += inbox.lock.waiting;
    }
    return {
      connections: this.#sessions.size,
      online: this.#backend.registry.size,
      lbLinks,
      locksHeld,
      lockWaiters,
      pendingReplies: this.#replies.size,
      timers: this.#replies.size + this.#writes.size + this.#logins.size +
        this.#connects.size + this.#auth.delaying,
      refusedConnections: this.#refused,
    };
  }

  /**
   * Stops accepting, closes every link, and resolves once every task of the
   * server has finished.
   */
  close(): Promise<void> {
    this.#closing ??= this.#stop();
    return this.#closing;
  }

  /** Same as {@linkcode ChatServer.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #stop(): Promise<void> {
    this.#shutdown.abort();
    this.#listener.close();
    const web = this.#web?.close();
    for (const session of this.#sessions.keys()) {
      session.drop("server shutting down");
    }
    while (this.#sessions.size > 0 || this.#tasks.size > 0) {
      await Promise.all([...this.#sessions.values(), ...this.#tasks]);
    }
    await web;
    await this.#backend.close();
    for (
      const queue of [this.#replies, this.#writes, this.#logins, this.#connects]
    ) {
      queue.close();
    }
  }

  #track(task: Promise<void>): void {
    const tracked: Promise<void> = task.then(
      () => {
        this.#tasks.delete(tracked);
      },
      (error) => {
        this.#tasks.delete(tracked);
        this.#log.internalError(error);
      },
    );
    this.#tasks.add(tracked);
  }

  async #acceptClients(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#shutdown.signal.aborted) return;
        this.#log.emit({
          level: "error",
          event: "accept-failed",
          message: `accept failed: ${describeError(error)}`,
          cause: describeError(error),
        });
        if (error instanceof Deno.errors.BadResource) return;
        // Out of file descriptors, say: give closing connections a moment.
        await delay(ACCEPT_RETRY_MS, { signal: this.#shutdown.signal });
        continue;
      }
      if (this.#shutdown.signal.aborted) {
        // Accepted in the same tick as close(): too late to be served.
        conn.close();
        return;
      }
      if (this.#sessions.size >= this.settings.maxConnections) {
        conn.close();
        this.#refuseConnection();
        continue;
      }
      this.#serveClient(conn);
    }
  }

  /** Counts a refused connection; logs at most one line a second. */
  #refuseConnection(): void {
    this.#refused++;
    this.#refusedUnlogged++;
    const now = performance.now();
    if (now - this.#lastRefusalLog < REFUSAL_LOG_INTERVAL_MS) return;
    this.#log.emit({
      level: "error",
      event: "connection-refused",
      message:
        `refused ${this.#refusedUnlogged} connection(s): limit of ${this.settings.maxConnections} reached`,
      cause: "connection limit",
    });
    this.#refusedUnlogged = 0;
    this.#lastRefusalLog = now;
  }

  #serveClient(conn: Deno.TcpConn): void {
    const link = new TcpClientLink(conn, {
      maxLineBytes: this.settings.maxLineBytes,
      connects: this.#connects,
      tasks: this.#tasks,
    });
    const session = new Session(link, this.#services);
    this.#sessions.set(session, link.serve(session));
  }

  #announceWeb(web: WebGateway): void {
    this.#log.emit({
      level: "info",
      event: "web-started",
      message: `web client on ${web.url}`,
    });
    if (web.secure || isLoopback(web.hostname)) return;
    this.#log.emit({
      level: "error",
      event: "web-cleartext",
      message:
        `warning: the web client is served without TLS on ${web.hostname}: ` +
        "passwords typed in the page would cross the network in clear " +
        "(give --tls-cert and --tls-key)",
      cause: "no TLS",
    });
  }
}

/** The online list and delivery of a single server, in its memory. */
function localBackend(context: BackendContext): Backend {
  const registry = new LocalRegistry();
  return {
    registry,
    delivery: new LocalDelivery(registry, context),
    close: () => Promise.resolve(),
  };
}

/**
 * Starts a server for `users` (user name to stored password) and returns it
 * once it is listening.
 *
 * @example
 * ```ts
 * import { startServer } from "./chat_server.ts";
 *
 * const server = startServer(new Map([["bob", "pw"]]), {
 *   hostname: "127.0.0.1",
 *   port: 0,
 * });
 * console.log(server.port);
 * await server.close();
 * ```
 */
export function startServer(
  users: ReadonlyMap<string, string>,
  options: ServerOptions = {},
): ChatServer {
  return new ChatServer(users, options);
}
