/**
 * The instant-messaging server: accepts clients on link La, authenticates
 * them, connects back to each for link Lb, and relays chat messages.
 *
 * Each connection is served by its own async task (the handout's thread per
 * connection). Every user's Lb carries one exchange at a time: a sender takes
 * the receiver's {@linkcode AsyncLock}, writes the chat line, waits for the
 * receiver's `302`, and releases.
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";
import { AsyncLock } from "./async_lock.ts";
import { describeError } from "./errors.ts";
import { LineConnection } from "./line_connection.ts";
import { DEFAULT_MAX_LINE_BYTES, type LineResult } from "./line_reader.ts";
import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_FAILED,
  BUILD_SUCCESSFUL,
  BYE,
  type Command,
  type Delivery,
  DELIVERY_FAILED,
  DELIVERY_SUCCESSFUL,
  formatDelivery,
  formatList,
  parseCommand,
  RECEIPT_SUCCESSFUL,
  UNRECOGNIZED,
} from "./protocol.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** Address to listen on. Defaults to all IPv4 interfaces, `0.0.0.0`. */
  hostname?: string;
  /** Port to listen on; `0` (the default) picks a free one. */
  port?: number;
  /** How long a receiver has to answer a chat line on Lb. Default 10 s. */
  replyTimeoutMs?: number;
  /** How long connecting link Lb may take. Default 5 s. */
  connectTimeoutMs?: number;
  /** Longest accepted line in bytes, terminator excluded. Default 65,536. */
  maxLineBytes?: number;
  /** Receives one line per event (connections, logins, failures). */
  log?: (line: string) => void;
}

/** A read-only snapshot of what the server holds. */
export interface ServerStats {
  /** Open client connections (La). */
  connections: number;
  /** Users on the online list. */
  online: number;
  /** Open Lb links. */
  lbLinks: number;
}

/** Default time a receiver has to answer on Lb, in milliseconds. */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;
/** Default time allowed to connect link Lb, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

// Lines a client may send ahead of the server's replies before the server
// stops reading its La for a while.
const MAX_PIPELINED_LINES = 16;
const ACCEPT_RETRY_MS = 100;

const TIMED_OUT: unique symbol = Symbol("timed out");
type Reply = LineResult | null | typeof TIMED_OUT;

/** One client: its La link, and once logged in, its name and Lb link. */
class Session {
  readonly la: LineConnection;
  readonly peer: string;
  readonly lbLock = new AsyncLock();
  name: string | undefined;
  lb: LineConnection | undefined;
  portRequested = false;
  loggedOut = false;
  /** Settles the exchange in flight on Lb, if one is. */
  awaitingReply: ((reply: Reply) => void) | undefined;

  constructor(la: LineConnection) {
    this.la = la;
    const { hostname, port } = la.remoteAddr;
    this.peer = `${hostname}:${port}`;
  }

  get label(): string {
    return this.name ?? this.peer;
  }
}

/**
 * A running server. Create it with {@linkcode startServer}; stop it with
 * {@linkcode ChatServer.close}.
 */
export class ChatServer implements AsyncDisposable {
  readonly #users: ReadonlyMap<string, string>;
  readonly #listener: Deno.TcpListener;
  readonly #replyTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #maxLineBytes: number;
  readonly #log: (line: string) => void;
  /** Users online, in the order they logged in. */
  readonly #online = new Map<string, Session>();
  readonly #sessions = new Set<Session>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #shutdown = new AbortController();
  #closing: Promise<void> | undefined;

  /**
   * Starts listening at once; throws `Deno.errors.AddrInUse` and the like if
   * the address cannot be bound.
   */
  constructor(users: ReadonlyMap<string, string>, options: ServerOptions = {}) {
    this.#users = users;
    this.#replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ??
      DEFAULT_CONNECT_TIMEOUT_MS;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#log = options.log ?? (() => {});
    this.#listener = Deno.listen({
      hostname: options.hostname ?? "0.0.0.0",
      port: options.port ?? 0,
    });
    this.#track(this.#acceptClients());
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
    for (const session of this.#sessions) {
      if (session.lb !== undefined && !session.lb.closed) lbLinks++;
    }
    return {
      connections: this.#sessions.size,
      online: this.#online.size,
      lbLinks,
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
    for (const session of this.#sessions) {
      this.#drop(session, "server shutting down");
    }
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  #track(task: Promise<void>): void {
    const tracked = task
      .catch((error) => this.#log(`internal error: ${describeError(error)}`))
      .finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  async #acceptClients(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#shutdown.signal.aborted) return;
        this.#log(`accept failed: ${describeError(error)}`);
        if (error instanceof Deno.errors.BadResource) return;
        // Out of file descriptors, say: give closing connections a moment.
        await delay(ACCEPT_RETRY_MS, undefined, {
          signal: this.#shutdown.signal,
        }).catch(() => {});
        continue;
      }
      this.#track(this.#serveClient(conn));
    }
  }

  /** Reads La for as long as it is open; lines are handled in order. */
  async #serveClient(conn: Deno.TcpConn): Promise<void> {
    const la = new LineConnection(conn, { maxLineBytes: this.#maxLineBytes });
    const session = new Session(la);
    this.#sessions.add(session);
    this.#log(`${session.peer}: connected`);
    let handled: Promise<void> = Promise.resolve();
    let queued = 0;
    let cause = "disconnected";
    try {
      for (;;) {
        const line = await la.readLine();
        if (line === null) break;
        queued++;
        handled = handled
          .then(() => this.#handleLine(session, line))
          .catch((error) =>
            this.#log(`internal error: ${describeError(error)}`)
          )
          .finally(() => queued--);
        if (queued >= MAX_PIPELINED_LINES) await handled;
      }
    } catch (error) {
      cause = describeError(error);
    }
    // The user goes off the list at once; lines already received are still
    // answered, in case the client only closed its sending side.
    this.#logout(session, cause);
    await handled;
    la.close();
    this.#sessions.delete(session);
  }

  async #handleLine(session: Session, line: LineResult): Promise<void> {
    const command: Command = typeof line === "string"
      ? parseCommand(line)
      : { kind: "unrecognized" };
    let reply: string;
    if (session.name === undefined) {
      reply = command.kind === "login"
        ? this.#login(session, command.user, command.password)
        : command.kind === "bad-login"
        ? this.#refuseLogin(session, "malformed /login")
        : UNRECOGNIZED;
    } else {
      switch (command.kind) {
        case "port":
          reply = await this.#connectLb(session, command.port);
          break;
        case "list":
          reply = formatList(this.#namesFor(session.name));
          break;
        case "to":
          reply = await this.#sendTo(session, command.target, command.content);
          break;
        case "toall":
          reply = await this.#sendToAll(session, command.content);
          break;
        case "exit":
          await this.#exit(session);
          return;
        default:
          reply = UNRECOGNIZED;
      }
    }
    await this.#reply(session, reply);
  }

  async #reply(session: Session, line: string): Promise<void> {
    try {
      await session.la.writeLine(line);
    } catch (error) {
      // The read loop sees the broken link and logs the user out.
      this.#log(`${session.label}: reply not sent: ${describeError(error)}`);
    }
  }

  #login(session: Session, user: string, password: string): string {
    if (this.#users.get(user) !== password) {
      return this.#refuseLogin(session, `wrong user name or password`);
    }
    if (this.#online.has(user)) {
      return this.#refuseLogin(session, `${user} is already online`);
    }
    if (session.loggedOut) return AUTH_FAILED;
    session.name = user;
    this.#online.set(user, session);
    this.#log(`${session.peer}: logged in as ${user}`);
    return AUTH_SUCCESSFUL;
  }

  #refuseLogin(session: Session, why: string): string {
    this.#log(`${session.peer}: login failed: ${why}`);
    return AUTH_FAILED;
  }

  /** The requester first, then everyone else in the order they logged in. */
  #namesFor(requester: string): string[] {
    const names = [requester];
    for (const name of this.#online.keys()) {
      if (name !== requester) names.push(name);
    }
    return names;
  }

  /** Connects link Lb back to the address La came from. */
  async #connectLb(session: Session, port: number): Promise<string> {
    if (session.portRequested) return UNRECOGNIZED;
    session.portRequested = true;
    if (session.loggedOut) return BUILD_FAILED;
    const { hostname } = session.la.remoteAddr;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#connectTimeoutMs);
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({
        hostname,
        port,
        signal: AbortSignal.any([deadline.signal, this.#shutdown.signal]),
      });
    } catch (error) {
      const why = deadline.signal.aborted
        ? `no connection within ${this.#connectTimeoutMs} ms`
        : describeError(error);
      this.#log(`${session.label}: Lb to ${hostname}:${port} failed: ${why}`);
      return BUILD_FAILED;
    } finally {
      clearTimeout(timer);
    }
    if (session.loggedOut) {
      conn.close();
      return BUILD_FAILED;
    }
    const lb = new LineConnection(conn, { maxLineBytes: this.#maxLineBytes });
    session.lb = lb;
    this.#track(this.#watchLb(session, lb));
    this.#log(`${session.label}: Lb connected to ${hostname}:${port}`);
    return BUILD_SUCCESSFUL;
  }

  /** Reads Lb: replies go to the exchange in flight; a break logs out. */
  async #watchLb(session: Session, lb: LineConnection): Promise<void> {
    let cause = "Lb closed";
    try {
      for (;;) {
        const line = await lb.readLine();
        if (line === null) break;
        const settle = session.awaitingReply;
        session.awaitingReply = undefined;
        // A line nobody waits for answers nothing: it is dropped.
        settle?.(line);
      }
    } catch (error) {
      cause = `Lb ${describeError(error)}`;
    }
    this.#drop(session, cause);
  }

  async #sendTo(
    sender: Session,
    target: string,
    content: string,
  ): Promise<string> {
    const receiver = this.#online.get(target);
    if (receiver === undefined || receiver.lb === undefined) {
      this.#log(`${sender.label}: /to ${target}: not online with Lb`);
      return DELIVERY_FAILED;
    }
    const delivered = await this.#deliver(receiver, {
      kind: "from",
      sender: sender.label,
      content,
    });
    return delivered ? DELIVERY_SUCCESSFUL : DELIVERY_FAILED;
  }

  async #sendToAll(sender: Session, content: string): Promise<string> {
    const delivery: Delivery = {
      kind: "broadcastfrom",
      sender: sender.label,
      content,
    };
    const deliveries: Promise<boolean>[] = [];
    for (const receiver of this.#online.values()) {
      if (receiver !== sender && receiver.lb !== undefined) {
        deliveries.push(this.#deliver(receiver, delivery));
      }
    }
    const results = await Promise.all(deliveries);
    return results.every(Boolean) ? DELIVERY_SUCCESSFUL : DELIVERY_FAILED;
  }

  /**
   * One exchange on the receiver's Lb, under its lock: the chat line out,
   * the receipt back. True only for a `302` within the reply timeout.
   */
  async #deliver(receiver: Session, delivery: Delivery): Promise<boolean> {
    using _held = await receiver.lbLock.acquire();
    const lb = receiver.lb;
    if (receiver.loggedOut || lb === undefined) return false;
    const reply = Promise.withResolvers<Reply>();
    receiver.awaitingReply = reply.resolve;
    const timer = setTimeout(
      () => reply.resolve(TIMED_OUT),
      this.#replyTimeoutMs,
    );
    // A write that fails settles the exchange at once; the Lb watcher will
    // see the broken link too.
    lb.writeLine(formatDelivery(delivery)).catch(() => reply.resolve(null));
    const answer = await reply.promise;
    clearTimeout(timer);
    receiver.awaitingReply = undefined;
    if (answer === RECEIPT_SUCCESSFUL) return true;
    if (answer === TIMED_OUT) {
      this.#drop(receiver, `no reply on Lb within ${this.#replyTimeoutMs} ms`);
    } else if (answer === null) {
      this.#drop(receiver, "Lb broke during a delivery");
    } else {
      const shown = typeof answer === "string"
        ? JSON.stringify(answer)
        : "a bad line";
      this.#log(`${receiver.label}: answered ${shown} instead of a receipt`);
    }
    return false;
  }

  async #exit(session: Session): Promise<void> {
    // Off the list first, so no new delivery starts; holding the Lb lock
    // lets the exchange in flight finish and keeps later ones out until the
    // session is gone. Then the goodbye, then both links close.
    this.#unlist(session);
    using _held = await session.lbLock.acquire();
    await this.#reply(session, BYE);
    this.#drop(session, "exit");
  }

  #unlist(session: Session): void {
    if (
      session.name !== undefined && this.#online.get(session.name) === session
    ) {
      this.#online.delete(session.name);
    }
  }

  /** Takes the user off the list and closes Lb; La is left to the caller. */
  #logout(session: Session, cause: string): void {
    if (session.loggedOut) return;
    session.loggedOut = true;
    this.#unlist(session);
    session.lb?.close();
    const settle = session.awaitingReply;
    session.awaitingReply = undefined;
    settle?.(null);
    this.#log(`${session.label}: logged out (${cause})`);
  }

  /** Logs the user out and closes both links. */
  #drop(session: Session, cause: string): void {
    this.#logout(session, cause);
    session.la.close();
  }
}

/**
 * Starts a server for `users` (user name to password) and returns it once it
 * is listening.
 *
 * @example
 * ```ts ignore
 * const server = startServer(new Map([["bob", "pw"]]), { port: 0 });
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
