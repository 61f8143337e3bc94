/**
 * The instant-messaging client: logs a user in over link La, opens link Lb
 * for incoming chat, then sends the user's commands and shows the replies.
 *
 * It is strict in what it sends (exactly the handout's lines) and liberal in
 * what it accepts, so that it works with servers written by others: replies
 * are recognised by their three-digit code whatever their wording, any answer
 * to `/login` but `101` makes it ask again, and a line it cannot place is
 * shown as it came.
 *
 * The session talks to the user through a {@linkcode ClientUI} (`ui.ts`).
 * The plain one, {@linkcode lineUI}, reads and prints whole lines, so the
 * client works the same through a pipe, from a file and in tests;
 * `lib/terminal/` has the interactive one used when standard input is a
 * terminal.
 *
 * @module
 */

import {
  describeError,
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_OK,
} from "../errors.ts";
import { LineConnection } from "../net/line_connection.ts";
import type { TraceEvent } from "../trace.ts";
import {
  AUTH_SUCCESSFUL,
  BUILD_SUCCESSFUL,
  BYE,
  EXIT,
  formatLogin,
  formatPort,
  hasStatusOf,
  parseDelivery,
  RECEIPT_SUCCESSFUL,
  statusCode,
} from "../protocol.ts";
import { type ClientIO, type ClientUI, type InputKind, lineUI } from "./ui.ts";

// How long to wait for the server to connect: to reach it at all, and for
// its Lb connection after it said `201`.
const CONNECT_TIMEOUT_MS = 10_000;
const LB_WAIT_MS = 5_000;
// Chat lines from the server carry a name and up to a full line of content.
const MAX_RECEIVED_LINE_BYTES = 1 << 20;
// A reply or chat line with a stray invalid byte is still shown (with U+FFFD
// in its place) and, if it is chat, acknowledged.
const RECEIVED_LINES = {
  maxLineBytes: MAX_RECEIVED_LINE_BYTES,
  strictUtf8: false,
};

/** Where the server is. */
export interface ServerAddress {
  /** Its IP address or host name. */
  hostname: string;
  /** Its listening port. */
  port: number;
}

/** The link to the server broke or the server misbehaved. */
class LinkLost extends Error {}

/** The user asked to quit at once. */
class Interrupted extends LinkLost {}

/**
 * Runs one client session against `server` and resolves to the process exit
 * code: 0 after `310 Bye bye` (or when input ends before a login), 1 when
 * the server cannot be reached, refuses link Lb, or a link breaks, and
 * {@linkcode EXIT_INTERRUPTED} when the user quits at once.
 */
export async function runClient(
  server: ServerAddress,
  io: ClientIO,
): Promise<number> {
  const ui = "ui" in io ? io.ui : lineUI(io);
  let conn: Deno.TcpConn;
  try {
    conn = await connectWithin(server, CONNECT_TIMEOUT_MS);
  } catch (cause) {
    ui.showError(
      `error: cannot connect to ${server.hostname}:${server.port}: ${
        describeError(cause)
      }`,
    );
    ui.close();
    return EXIT_FAILURE;
  }
  const session = new ClientSession(conn, ui, io.trace);
  try {
    return await session.run();
  } catch (cause) {
    if (cause instanceof Interrupted) return EXIT_INTERRUPTED;
    if (!(cause instanceof LinkLost)) throw cause;
    ui.showError(`error: ${cause.message}`);
    return EXIT_FAILURE;
  } finally {
    await session.close();
  }
}

class ClientSession {
  readonly #la: LineConnection;
  readonly #ui: ClientUI;
  readonly #trace: (event: TraceEvent) => void;
  #lb: LineConnection | undefined;
  #lbListener: Deno.TcpListener | undefined;
  readonly #tasks: Promise<void>[] = [];
  readonly #replies: string[] = [];
  #replyWaiter: (() => void) | undefined;
  /** Commands sent whose reply has not arrived yet. */
  #repliesDue = 0;
  #lost: LinkLost | undefined;
  readonly #guards = new Set<(error: LinkLost) => void>();
  #exitSent = false;
  #byeReceived = false;

  constructor(
    conn: Deno.TcpConn,
    ui: ClientUI,
    trace: ((event: TraceEvent) => void) | undefined,
  ) {
    this.#la = new LineConnection(conn, RECEIVED_LINES);
    this.#ui = ui;
    this.#trace = trace ?? (() => {});
    ui.quit?.then(() => this.#loseLink(new Interrupted("interrupted")));
    this.#tasks.push(this.#readLa());
  }

  async run(): Promise<number> {
    if (!await this.#logIn()) return EXIT_OK;
    if (!await this.#buildLb()) return EXIT_FAILURE;
    for (;;) {
      const typed = await this.#nextInput("command");
      if (typed === null) this.#ui.showAutoCommand(EXIT);
      const reply = await this.#command(typed ?? EXIT);
      if (hasStatusOf(reply, BYE)) return EXIT_OK;
      if (typed === null) {
        throw new LinkLost(`the server answered /exit with: ${reply}`);
      }
    }
  }

  async close(): Promise<void> {
    this.#la.close();
    this.#lb?.close();
    this.#closeLbListener();
    this.#ui.close();
    await Promise.all(this.#tasks);
  }

  /**
   * Asks for a name and password until the server accepts them. Any answer
   * but `101` (`102`, or another server's `401 Authentication failed` or
   * `103 You are already logged in`) has been shown: ask again.
   */
  async #logIn(): Promise<boolean> {
    for (;;) {
      const user = await this.#nextInput("user");
      if (user === null) return false;
      const password = await this.#nextInput("password");
      if (password === null) return false;
      const reply = await this.#command(formatLogin(user, password));
      if (hasStatusOf(reply, AUTH_SUCCESSFUL)) return true;
    }
  }

  /** Listens for the server's Lb connection and tells it where. */
  async #buildLb(): Promise<boolean> {
    // Same local address as La, so a loopback session stays on loopback.
    const listener = Deno.listen({
      hostname: this.#la.localAddr.hostname,
      port: 0,
    });
    this.#lbListener = listener;
    const accepted = acceptFrom(listener, this.#la.remoteAddr.hostname);
    accepted.catch(() => {});
    const reply = await this.#command(formatPort(listener.addr.port));
    // `202`, or anything else: there is no link Lb, so nothing to go on with.
    if (!hasStatusOf(reply, BUILD_SUCCESSFUL)) return false;
    // The server connected before it answered, so its connection is
    // queued; should it not come (only a stranger did), give up.
    const timer = setTimeout(() => this.#closeLbListener(), LB_WAIT_MS);
    let conn: Deno.TcpConn;
    try {
      conn = await this.#unlessLost(accepted);
    } catch (cause) {
      if (cause instanceof LinkLost) throw cause;
      throw new LinkLost("the server's connection for link Lb never came");
    } finally {
      clearTimeout(timer);
    }
    this.#closeLbListener();
    this.#lb = new LineConnection(conn, RECEIVED_LINES);
    this.#tasks.push(this.#readLb(this.#lb));
    return true;
  }

  #closeLbListener(): void {
    this.#lbListener?.close();
    this.#lbListener = undefined;
  }

  /** Sends one line on La and returns the server's reply, shown. */
  async #command(line: string): Promise<string> {
    this.#exitSent = line === EXIT;
    this.#repliesDue++;
    try {
      await this.#la.writeLine(line);
    } catch (cause) {
      throw new LinkLost(
        `lost the connection to the server: ${describeError(cause)}`,
      );
    }
    this.#trace({ link: "a", from: "CLIENT", line });
    const reply = await this.#nextReply();
    this.#ui.showReply(reply);
    return reply;
  }

  #nextInput(kind: InputKind): Promise<string | null> {
    return this.#unlessLost(this.#ui.readLine(kind));
  }

  async #nextReply(): Promise<string> {
    while (this.#replies.length === 0) {
      await this.#unlessLost(
        new Promise<void>((resolve) => this.#replyWaiter = resolve),
      );
    }
    return this.#replies.shift()!;
  }

  /** Waits for `promise`, but throws at once if a link breaks meanwhile. */
  #unlessLost<T>(promise: Promise<T>): Promise<T> {
    if (this.#lost !== undefined) return Promise.reject(this.#lost);
    return new Promise<T>((resolve, reject) => {
      this.#guards.add(reject);
      promise.then(resolve, reject).finally(() => this.#guards.delete(reject));
    });
  }

  #loseLink(error: LinkLost): void {
    if (this.#lost !== undefined) return;
    this.#lost = error;
    for (const reject of this.#guards) reject(error);
    this.#guards.clear();
  }

  async #readLa(): Promise<void> {
    let why = "the server closed the connection";
    try {
      for (;;) {
        const line = await this.#la.readLine();
        if (line === null) break;
        if (typeof line !== "string") {
          this.#ui.showError("error: the server sent an unreadable line");
          continue;
        }
        this.#trace({ link: "a", from: "SERVER", line });
        // A reply starts with a status code and answers a command; any
        // other line (a greeting, chat sent on the wrong link) is shown.
        if (statusCode(line) === undefined || this.#repliesDue === 0) {
          this.#ui.showReply(line);
          continue;
        }
        this.#repliesDue--;
        if (hasStatusOf(line, BYE)) this.#byeReceived = true;
        this.#replies.push(line);
        this.#replyWaiter?.();
        this.#replyWaiter = undefined;
      }
    } catch (cause) {
      why = `lost the connection to the server: ${describeError(cause)}`;
    }
    if (!this.#byeReceived && !this.#la.closed) {
      this.#loseLink(new LinkLost(why));
    }
  }

  /** Shows each incoming chat line and acknowledges it. */
  async #readLb(lb: LineConnection): Promise<void> {
    let why = "the server closed link Lb";
    try {
      for (;;) {
        const line = await lb.readLine();
        if (line === null) break;
        if (typeof line !== "string") {
          this.#ui.showError("error: the server sent an unreadable chat line");
          continue;
        }
        this.#trace({ link: "b", from: "SERVER", line });
        this.#ui.showIncoming(line);
        if (parseDelivery(line) !== undefined) {
          await lb.writeLine(RECEIPT_SUCCESSFUL);
          this.#trace({ link: "b", from: "CLIENT", line: RECEIPT_SUCCESSFUL });
        }
      }
    } catch (cause) {
      why = `lost link Lb: ${describeError(cause)}`;
    }
    // After /exit the server closes Lb before or after its goodbye arrives.
    if (!this.#exitSent && !this.#byeReceived && !lb.closed) {
      this.#loseLink(new LinkLost(why));
    }
  }
}

/** Connects to `server`, giving up after `ms` milliseconds. */
async function connectWithin(
  server: ServerAddress,
  ms: number,
): Promise<Deno.TcpConn> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), ms);
  try {
    return await Deno.connect({
      hostname: server.hostname,
      port: server.port,
      signal: deadline.signal,
    });
  } catch (error) {
    if (deadline.signal.aborted) {
      throw new Error(`no answer within ${ms / 1000} s`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Accepts the first connection from `hostname`; turns others away. */
async function acceptFrom(
  listener: Deno.TcpListener,
  hostname: string,
): Promise<Deno.TcpConn> {
  for (;;) {
    const conn = await listener.accept();
    if ((conn.remoteAddr as Deno.NetAddr).hostname === hostname) return conn;
    conn.close();
  }
}
