/**
 * The instant-messaging server: accepts clients on link La, authenticates
 * them, connects back to each for link Lb, and relays chat messages.
 *
 * Each connection is served by its own async task (the handout's thread per
 * connection). Every user's Lb carries one exchange at a time: a sender takes
 * the receiver's {@linkcode AsyncLock}, writes the chat line, waits for the
 * receiver's `302`, and releases.
 *
 * Every wait is bounded: a receiver's reply, a reply written to a client that
 * does not read, the connection back for Lb, and a login, each by its own
 * timeout. Timeouts of one kind share a single timer ({@linkcode TimeoutQueue}).
 *
 * @module
 */

import { AsyncLock } from "./async_lock.ts";
import { verifyPassword } from "./credentials.ts";
import { describeError } from "./errors.ts";
import { encodeLine, LineConnection } from "./line_connection.ts";
import { DEFAULT_MAX_LINE_BYTES, type LineResult } from "./line_reader.ts";
import { LoginThrottle, type LoginThrottleOptions } from "./login_throttle.ts";
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
import type { LogEvent, LogLevel } from "./server_log.ts";
import { type TimeoutEntry, TimeoutQueue } from "./timeout_queue.ts";

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** Address to listen on. Defaults to all IPv4 interfaces, `0.0.0.0`. */
  hostname?: string;
  /** Port to listen on; `0` (the default) picks a free one. */
  port?: number;
  /**
   * How long a receiver has to answer a chat line on Lb, and a client to
   * take a reply written to it on La. Default 10 s.
   */
  replyTimeoutMs?: number;
  /** How long connecting link Lb may take. Default 5 s. */
  connectTimeoutMs?: number;
  /** How long a new connection has to log in. Default 30 s. */
  loginTimeoutMs?: number;
  /** Longest accepted line in bytes, terminator excluded. Default 65,536. */
  maxLineBytes?: number;
  /** Most client connections at once; more are closed. Default 10,000. */
  maxConnections?: number;
  /** Delays for repeated failed logins, or `false` for none. */
  loginThrottle?: LoginThrottleOptions | false;
  /** Receives events at `logLevel` and above. */
  log?: (event: LogEvent) => void;
  /** The least important events logged. Default `info`: all of them. */
  logLevel?: LogLevel;
  /** Told of every line crossing La or Lb. */
  trace?: (event: ServerTraceEvent) => void;
}

/** One line crossing a link, seen from the server. */
export interface ServerTraceEvent {
  /** The user, or the client's address before login. */
  user: string;
  /** The link: `a` carries commands and replies, `b` chat. */
  link: "a" | "b";
  /** Who sent the line. */
  from: "CLIENT" | "SERVER";
  /** The line, without its `\n`; a line that could not be read is `�`. */
  line: string;
}

/** A read-only snapshot of what the server holds. */
export interface ServerStats {
  /** Open client connections (La). */
  connections: number;
  /** Users on the online list. */
  online: number;
  /** Open Lb links. */
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

/** Default time a receiver has to answer on Lb, in milliseconds. */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;
/** Default time allowed to connect link Lb, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default time a new connection has to log in, in milliseconds. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;
/** Default limit on client connections at once. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

// Lines a client may send ahead of the server's replies before the server
// stops reading its La for a while.
const MAX_PIPELINED_LINES = 16;
const ACCEPT_RETRY_MS = 100;
// Every idle connection pins its read buffer in a pending read, so buffers
// are small: commands are short, and longer lines just take more reads.
const LA_READ_BUFFER_BYTES = 512;
const LB_READ_BUFFER_BYTES = 256;
const REFUSAL_LOG_INTERVAL_MS = 1_000;

// The answer to a command whose handling failed inside the server.
const FAILURE_REPLIES: Record<Command["kind"], string | undefined> = {
  "login": AUTH_FAILED,
  "bad-login": AUTH_FAILED,
  "port": BUILD_FAILED,
  "list": UNRECOGNIZED,
  "to": DELIVERY_FAILED,
  "toall": DELIVERY_FAILED,
  "exit": undefined,
  "unrecognized": UNRECOGNIZED,
};

const TIMED_OUT: unique symbol = Symbol("timed out");
type Reply = LineResult | null | typeof TIMED_OUT;

// Replies that never change, encoded once.
const ENCODED = new Map<string, Uint8Array>(
  [
    AUTH_SUCCESSFUL,
    AUTH_FAILED,
    BUILD_SUCCESSFUL,
    BUILD_FAILED,
    DELIVERY_SUCCESSFUL,
    DELIVERY_FAILED,
    BYE,
    UNRECOGNIZED,
  ].map((line) => [line, encodeLine(line)]),
);

/**
 * Where a session stands: `connected` until login, `online` once on the
 * list, `leaving` after `/exit` until the goodbye is sent, `gone` after.
 */
type SessionState = "connected" | "online" | "leaving" | "gone";

/** One client: its La link, and once logged in, its name and Lb link. */
class Session {
  readonly la: LineConnection;
  readonly address: string;
  readonly peer: string;
  readonly lbLock = new AsyncLock();
  state: SessionState = "connected";
  /** The connection attempt for Lb under way, stopped if the session ends. */
  connecting: AbortController | undefined;
  name: string | undefined;
  lb: LineConnection | undefined;
  portRequested = false;
  loginTimeout: TimeoutEntry | undefined;
  /** Lines received and not yet answered, and the last one's handling. */
  queued = 0;
  handled: Promise<void> = Promise.resolve();
  /** Settles the exchange in flight on Lb, if one is. */
  awaitingReply: ((reply: Reply) => void) | undefined;

  constructor(la: LineConnection) {
    this.la = la;
    const { hostname, port } = la.remoteAddr;
    this.address = hostname;
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
  readonly #maxLineBytes: number;
  readonly #maxConnections: number;
  readonly #replies: TimeoutQueue;
  readonly #writes: TimeoutQueue;
  readonly #logins: TimeoutQueue;
  readonly #connects: TimeoutQueue;
  readonly #throttle: LoginThrottle | undefined;
  readonly #log: ((event: LogEvent) => void) | undefined;
  readonly #info: boolean;
  readonly #trace: ((event: ServerTraceEvent) => void) | undefined;
  // Checked when a user name is unknown, so that answering takes as long as
  // for a known one.
  readonly #decoyPassword: string;
  /** Users online, in the order they logged in. */
  readonly #online = new Map<string, Session>();
  readonly #sessions = new Set<Session>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #shutdown = new AbortController();
  #throttled = 0;
  #refused = 0;
  #refusedUnlogged = 0;
  #lastRefusalLog = -Infinity;
  #closing: Promise<void> | undefined;

  /**
   * Starts listening at once; throws `Deno.errors.AddrInUse` and the like if
   * the address cannot be bound.
   */
  constructor(users: ReadonlyMap<string, string>, options: ServerOptions = {}) {
    this.#users = users;
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    this.#replies = new TimeoutQueue(replyTimeoutMs);
    this.#writes = new TimeoutQueue(replyTimeoutMs);
    this.#logins = new TimeoutQueue(
      options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
    );
    this.#connects = new TimeoutQueue(
      options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    );
    this.#throttle = options.loginThrottle === false
      ? undefined
      : new LoginThrottle(options.loginThrottle);
    this.#log = options.log;
    this.#info = this.#log !== undefined &&
      (options.logLevel ?? "info") === "info";
    this.#trace = options.trace;
    this.#decoyPassword =
      [...users.values()].find((stored) => stored.startsWith("scrypt$")) ?? "";
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
    let locksHeld = 0;
    let lockWaiters = 0;
    for (const session of this.#sessions) {
      if (session.lb !== undefined && !session.lb.closed) lbLinks++;
      if (session.lbLock.locked) locksHeld++;
      lockWaiters += session.lbLock.waiting;
    }
    return {
      connections: this.#sessions.size,
      online: this.#online.size,
      lbLinks,
      locksHeld,
      lockWaiters,
      pendingReplies: this.#replies.size,
      timers: this.#replies.size + this.#writes.size + this.#logins.size +
        this.#connects.size + this.#throttled,
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
    for (const session of this.#sessions) {
      this.#drop(session, "server shutting down");
    }
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
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
        this.#internalError(error);
      },
    );
    this.#tasks.add(tracked);
  }

  #internalError(error: unknown): void {
    this.#emit({
      level: "error",
      event: "internal-error",
      message: `internal error: ${describeError(error)}`,
      cause: describeError(error),
    });
  }

  async #acceptClients(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#shutdown.signal.aborted) return;
        this.#emit({
          level: "error",
          event: "accept-failed",
          message: `accept failed: ${describeError(error)}`,
          cause: describeError(error),
        });
        if (error instanceof Deno.errors.BadResource) return;
        // Out of file descriptors, say: give closing connections a moment.
        await delay(ACCEPT_RETRY_MS, this.#shutdown.signal);
        continue;
      }
      if (this.#shutdown.signal.aborted) {
        // Accepted in the same tick as close(): too late to be served.
        conn.close();
        return;
      }
      if (this.#sessions.size >= this.#maxConnections) {
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
    this.#emit({
      level: "error",
      event: "connection-refused",
      message:
        `refused ${this.#refusedUnlogged} connection(s): limit of ${this.#maxConnections} reached`,
      cause: "connection limit",
    });
    this.#refusedUnlogged = 0;
    this.#lastRefusalLog = now;
  }

  /** Reads La for as long as it is open; lines are handled in order. */
  #serveClient(conn: Deno.TcpConn): void {
    const la = new LineConnection(conn, {
      maxLineBytes: this.#maxLineBytes,
      bufferSize: LA_READ_BUFFER_BYTES,
    });
    const session = new Session(la);
    this.#sessions.add(session);
    session.loginTimeout = this.#logins.add(() =>
      this.#drop(session, `no login within ${this.#logins.delayMs} ms`)
    );
    this.#emit({
      level: "info",
      event: "connected",
      message: `${session.peer} connected`,
      peer: session.peer,
    });
    // A callback per line rather than an async loop: an idle connection
    // then holds one suspended read and little else.
    const serving: Promise<void> = la.forEachLine((line) =>
      this.#receive(session, line)
    ).then(
      () => this.#endSession(session, "disconnected", serving),
      (error) =>
        this.#endSession(
          session,
          la.closed ? "disconnected" : describeError(error),
          serving,
        ),
    );
    this.#tasks.add(serving);
  }

  /**
   * Queues a line from La behind the ones still being handled; past a few,
   * returns a promise that holds back reading.
   */
  #receive(session: Session, line: LineResult): Promise<void> | undefined {
    this.#traceLine(session, "a", "CLIENT", line);
    session.queued++;
    session.handled = session.queued === 1
      ? this.#handleLine(session, line)
      : session.handled.then(() => this.#handleLine(session, line));
    return session.queued >= MAX_PIPELINED_LINES ? session.handled : undefined;
  }

  /** Ends a session's La task: never rejects. */
  async #endSession(
    session: Session,
    cause: string,
    task: Promise<void>,
  ): Promise<void> {
    // The user goes off the list at once; lines already received are still
    // answered, in case the client only closed its sending side.
    this.#logout(session, cause);
    await session.handled;
    session.la.close();
    session.loginTimeout?.cancel();
    this.#sessions.delete(session);
    this.#tasks.delete(task);
  }

  /** Answers one line; never rejects. */
  async #handleLine(session: Session, line: LineResult): Promise<void> {
    const command: Command = typeof line === "string"
      ? parseCommand(line)
      : { kind: "unrecognized" };
    let reply: string | undefined;
    try {
      reply = await this.#answer(session, command);
    } catch (error) {
      // A fault of ours still gets the command its one, failed, answer.
      this.#internalError(error);
      reply = FAILURE_REPLIES[command.kind];
    }
    if (reply !== undefined) await this.#reply(session, reply);
    session.queued--;
  }

  /** Carries out a command; the reply, or `undefined` after `/exit`. */
  async #answer(
    session: Session,
    command: Command,
  ): Promise<string | undefined> {
    if (session.name === undefined) {
      if (command.kind === "login") {
        return await this.#login(session, command.user, command.password);
      }
      if (command.kind === "bad-login") {
        return await this.#refuseLogin(session, "malformed /login");
      }
      return UNRECOGNIZED;
    }
    switch (command.kind) {
      case "port":
        return await this.#connectLb(session, command.port);
      case "list":
        return formatList(this.#namesFor(session.name));
      case "to":
        return await this.#sendTo(session, command.target, command.content);
      case "toall":
        return await this.#sendToAll(session, command.content);
      case "exit":
        await this.#exit(session);
        return undefined;
      default:
        return UNRECOGNIZED;
    }
  }

  /** Writes a reply on La; a client that does not take it is dropped. */
  async #reply(session: Session, line: string): Promise<void> {
    this.#traceLine(session, "a", "SERVER", line);
    const stalled = this.#writes.add(() =>
      this.#drop(session, "stopped reading its replies")
    );
    try {
      await session.la.write(ENCODED.get(line) ?? encodeLine(line));
    } catch {
      // The read loop sees the broken link and logs the user out.
    } finally {
      stalled.cancel();
    }
  }

  async #login(
    session: Session,
    user: string,
    password: string,
  ): Promise<string> {
    const stored = this.#users.get(user);
    const valid = await verifyPassword(stored ?? this.#decoyPassword, password);
    if (stored === undefined || !valid) {
      return await this.#refuseLogin(session, "wrong user name or password");
    }
    if (this.#online.has(user)) {
      return await this.#refuseLogin(session, `${user} is already online`);
    }
    if (session.state !== "connected") return AUTH_FAILED;
    session.name = user;
    session.state = "online";
    session.loginTimeout?.cancel();
    session.loginTimeout = undefined;
    this.#online.set(user, session);
    this.#throttle?.success(session.address);
    this.#emit({
      level: "info",
      event: "login",
      message: `${session.peer} logged in as ${user}`,
      user,
      peer: session.peer,
    });
    return AUTH_SUCCESSFUL;
  }

  /** Answers `102`, after a delay once an address keeps failing. */
  async #refuseLogin(session: Session, why: string): Promise<string> {
    const wait = this.#throttle?.failure(session.address) ?? 0;
    this.#emit({
      level: "info",
      event: "login-failed",
      message: `${session.peer} login failed: ${why}${
        wait > 0 ? ` (answer delayed ${wait} ms)` : ""
      }`,
      peer: session.peer,
      cause: why,
      ms: wait,
    });
    if (wait > 0) {
      // Cut short by a shutdown, when the answer no longer matters.
      this.#throttled++;
      await delay(wait, this.#shutdown.signal);
      this.#throttled--;
    }
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
    if (session.state !== "online") return BUILD_FAILED;
    const hostname = session.address;
    const attempt = new AbortController();
    session.connecting = attempt;
    let timedOut = false;
    const timeout = this.#connects.add(() => {
      timedOut = true;
      attempt.abort();
    });
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port, signal: attempt.signal });
    } catch (error) {
      const why = timedOut
        ? `no connection within ${this.#connects.delayMs} ms`
        : describeError(error);
      this.#emit({
        level: "error",
        event: "lb-failed",
        message: `${session.label}: Lb to ${hostname}:${port} failed: ${why}`,
        user: session.name,
        peer: session.peer,
        cause: why,
      });
      return BUILD_FAILED;
    } finally {
      timeout.cancel();
      session.connecting = undefined;
    }
    if (session.state !== "online") {
      conn.close();
      return BUILD_FAILED;
    }
    // Lb brings back only receipts: a small read buffer will do.
    const lb = new LineConnection(conn, {
      maxLineBytes: this.#maxLineBytes,
      bufferSize: LB_READ_BUFFER_BYTES,
    });
    session.lb = lb;
    this.#watchLb(session, lb);
    this.#emit({
      level: "info",
      event: "lb",
      message: `${session.label}: Lb connected to ${hostname}:${port}`,
      user: session.name,
      peer: session.peer,
    });
    return BUILD_SUCCESSFUL;
  }

  /** Reads Lb: replies go to the exchange in flight; a break logs out. */
  #watchLb(session: Session, lb: LineConnection): void {
    const watching: Promise<void> = lb.forEachLine((line) => {
      this.#traceLine(session, "b", "CLIENT", line);
      const settle = session.awaitingReply;
      session.awaitingReply = undefined;
      // A line nobody waits for answers nothing: it is dropped.
      settle?.(line);
    }).then(
      () => this.#lbEnded(session, "Lb closed", watching),
      (error) =>
        this.#lbEnded(
          session,
          lb.closed ? "Lb closed" : `Lb ${describeError(error)}`,
          watching,
        ),
    );
    this.#tasks.add(watching);
  }

  #lbEnded(session: Session, cause: string, task: Promise<void>): void {
    this.#tasks.delete(task);
    // A session already over closes La itself, once its replies are out.
    if (session.state !== "gone") this.#drop(session, cause);
  }

  async #sendTo(
    sender: Session,
    target: string,
    content: string,
  ): Promise<string> {
    if (sender.state !== "online") return DELIVERY_FAILED;
    const receiver = this.#online.get(target);
    if (receiver === undefined || receiver.lb === undefined) {
      this.#emit({
        level: "error",
        event: "delivery-failed",
        message: `${sender.label} -> ${target}: not online with Lb`,
        user: sender.label,
        to: target,
        cause: "not online with Lb",
      });
      return DELIVERY_FAILED;
    }
    const line = formatDelivery({
      kind: "from",
      sender: sender.label,
      content,
    });
    const delivered = await this.#deliver(sender, receiver, line);
    return delivered ? DELIVERY_SUCCESSFUL : DELIVERY_FAILED;
  }

  async #sendToAll(sender: Session, content: string): Promise<string> {
    // A user who has left sends nothing more.
    if (sender.state !== "online") return DELIVERY_FAILED;
    const delivery: Delivery = {
      kind: "broadcastfrom",
      sender: sender.label,
      content,
    };
    const line = formatDelivery(delivery);
    const bytes = encodeLine(line);
    const deliveries: Promise<boolean>[] = [];
    for (const receiver of this.#online.values()) {
      if (receiver !== sender && receiver.lb !== undefined) {
        deliveries.push(this.#deliver(sender, receiver, line, bytes));
      }
    }
    const results = await Promise.all(deliveries);
    return results.every(Boolean) ? DELIVERY_SUCCESSFUL : DELIVERY_FAILED;
  }

  /**
   * One exchange on the receiver's Lb, under its lock: the chat line out,
   * the receipt back. True only for a `302` within the reply timeout.
   */
  async #deliver(
    sender: Session,
    receiver: Session,
    line: string,
    bytes: Uint8Array = encodeLine(line),
  ): Promise<boolean> {
    using _held = await receiver.lbLock.acquire();
    const lb = receiver.lb;
    if (receiver.state !== "online" || lb === undefined) {
      this.#deliveryFailed(sender, receiver, "receiver left", 0);
      return false;
    }
    const started = performance.now();
    const reply = Promise.withResolvers<Reply>();
    receiver.awaitingReply = reply.resolve;
    const timeout = this.#replies.add(() => reply.resolve(TIMED_OUT));
    this.#traceLine(receiver, "b", "SERVER", line);
    // A write that fails settles the exchange at once; the Lb watcher will
    // see the broken link too.
    lb.write(bytes).catch(() => reply.resolve(null));
    const answer = await reply.promise;
    timeout.cancel();
    receiver.awaitingReply = undefined;
    const ms = performance.now() - started;
    if (answer === RECEIPT_SUCCESSFUL) {
      // Built only when logged: this is the hot path.
      if (this.#info) {
        this.#emit({
          level: "info",
          event: "delivery",
          message: `${sender.label} -> ${receiver.label}: delivered in ${
            ms.toFixed(1)
          } ms`,
          user: sender.label,
          to: receiver.label,
          ms,
        });
      }
      return true;
    }
    let why: string;
    if (answer === TIMED_OUT) {
      why = `no receipt within ${this.#replies.delayMs} ms`;
      this.#drop(receiver, why);
    } else if (answer === null) {
      why = "Lb broke";
      this.#drop(receiver, "Lb broke during a delivery");
    } else {
      why = typeof answer === "string"
        ? `answered ${JSON.stringify(answer)} instead of a receipt`
        : "answered an unreadable line";
    }
    this.#deliveryFailed(sender, receiver, why, ms);
    return false;
  }

  #deliveryFailed(
    sender: Session,
    receiver: Session,
    why: string,
    ms: number,
  ): void {
    this.#emit({
      level: "error",
      event: "delivery-failed",
      message: `${sender.label} -> ${receiver.label}: ${why}`,
      user: sender.label,
      to: receiver.label,
      cause: why,
      ms,
    });
  }

  async #exit(session: Session): Promise<void> {
    // Off the list first, so no new delivery starts; taking the Lb lock
    // lets the exchange in flight finish, and `leaving` turns away senders
    // still queued. Then the goodbye, then both links close.
    this.#unlist(session);
    {
      using _held = await session.lbLock.acquire();
      if (session.state === "online") session.state = "leaving";
    }
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
    if (session.state === "gone") return;
    const wasKnown = session.state !== "connected";
    session.state = "gone";
    session.connecting?.abort();
    this.#unlist(session);
    session.lb?.close();
    const settle = session.awaitingReply;
    session.awaitingReply = undefined;
    settle?.(null);
    this.#emit({
      level: cause === "exit" || !wasKnown ? "info" : "error",
      event: "logout",
      message: `${session.label} logged out: ${cause}`,
      user: session.name,
      peer: session.peer,
      cause,
    });
  }

  /** Logs `event` if its level is logged. */
  #emit(event: LogEvent): void {
    if (event.level === "info" && !this.#info) return;
    this.#log?.(event);
  }

  /** Logs the user out and closes both links. */
  #drop(session: Session, cause: string): void {
    this.#logout(session, cause);
    session.la.close();
  }

  #traceLine(
    session: Session,
    link: "a" | "b",
    from: "CLIENT" | "SERVER",
    line: LineResult,
  ): void {
    if (this.#trace === undefined) return;
    this.#trace({
      user: session.label,
      link,
      from,
      line: typeof line === "string" ? line : "\uFFFD",
    });
  }
}

/**
 * Starts a server for `users` (user name to stored password) and returns it
 * once it is listening.
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

/** Resolves after `ms`, or at once when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
