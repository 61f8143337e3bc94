/**
 * A raw protocol peer for integration tests (and load generators): it speaks
 * the IM wire protocol byte by byte over real TCP sockets, frames lines by
 * `\n` itself and decodes UTF-8 only of complete lines.
 *
 * A {@linkcode WirePeer} owns a client's two links: La (the connection it
 * makes to the server) and Lb (the connection the server makes back to the
 * peer's listener after `/port`). Every line sent or received on either link
 * is recorded in {@linkcode WirePeer.transcript} in the Appendix's notation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { concat } from "./bytes.ts";

/** A server address. */
export interface Address {
  /** Host name or IP address. */
  hostname: string;
  /** TCP port. */
  port: number;
}

/** Default time a test waits for an expected line, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 3000;

/** The exact lines of the protocol, without their `\n`. */
export const Status = {
  AUTH_OK: "101 Authentication successful",
  AUTH_FAILED: "102 Authentication failed",
  BUILD_OK: "201 Build connection successful",
  BUILD_FAILED: "202 Build connection failed",
  RECEIPT_OK: "302 Message receipt successful",
  DELIVERY_OK: "303 Message delivery successful",
  DELIVERY_FAILED: "304 Message delivery failed",
  BYE: "310 Bye bye",
  UNRECOGNIZED: "401 Unrecognized message",
} as const;

const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/** Thrown by {@linkcode LineConn.readLine} when no line came in time. */
export class ReadTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`no line on ${what} within ${ms} ms`);
    this.name = "ReadTimeout";
  }
}

type Item = { line: string } | { error: Error };
type Waiter = (item: Item | null) => void;

/**
 * One TCP connection read as lines. A background pump reads bytes as they
 * arrive, frames them by `\n` and queues the decoded lines (without `\n`; a
 * `\r` before it is kept, so a stray CRLF from the server fails exact
 * comparisons). Reads take a timeout; end of stream reads as `null`.
 */
export class LineConn {
  /** The underlying connection. */
  readonly conn: Deno.TcpConn;
  /** Name used in messages and the transcript, e.g. `jacky/a`. */
  readonly name: string;
  /**
   * Called with each complete line as it arrives; a string it returns is sent
   * back at once as a line. Used for auto-replies on Lb.
   */
  onLine?: (line: string) => string | undefined;
  /** Called with every line sent and received (`dir` is "in" or "out"). */
  onRecord?: (dir: "in" | "out", line: string) => void;

  #items: Item[] = [];
  #waiters: Waiter[] = [];
  #ended = false;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();
  #pump: Promise<void>;

  constructor(conn: Deno.TcpConn, name: string) {
    this.conn = conn;
    this.name = name;
    this.#pump = this.#run();
  }

  /** Whether the remote end closed the stream (or it broke). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Number of complete lines received and not yet read. */
  get pending(): number {
    return this.#items.length;
  }

  async #run(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let partial = new Uint8Array(0);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    try {
      while (true) {
        let n: number | null;
        try {
          n = await this.conn.read(buf);
        } catch {
          n = null; // reset, or closed by us
        }
        if (n === null) break;
        let data = concat([partial, buf.subarray(0, n)]);
        let nl: number;
        while ((nl = data.indexOf(NEWLINE)) >= 0) {
          const bytes = data.subarray(0, nl);
          data = data.subarray(nl + 1);
          let item: Item;
          try {
            item = { line: decoder.decode(bytes) };
          } catch {
            item = { error: new Error(`${this.name}: invalid UTF-8 line`) };
          }
          if ("line" in item) this.#onIncoming(item.line);
          this.#push(item);
        }
        partial = data.slice();
      }
      if (partial.length > 0 && !this.#closed) {
        this.#push({
          error: new Error(
            `${this.name}: stream ended after ${partial.length} bytes ` +
              `without "\\n"`,
          ),
        });
      }
    } finally {
      this.#ended = true;
      for (const w of this.#waiters.splice(0)) w(null);
    }
  }

  #onIncoming(line: string): void {
    this.onRecord?.("in", line);
    const reply = this.onLine?.(line);
    if (reply !== undefined) this.send(reply).catch(() => {});
  }

  #push(item: Item): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#items.push(item);
  }

  /** Writes `line` + `\n`. */
  send(line: string): Promise<void> {
    this.onRecord?.("out", line);
    return this.sendRaw(encoder.encode(line + "\n"));
  }

  /** Writes arbitrary bytes, after any write already under way. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    const run = this.#writing.then(async () => {
      let off = 0;
      while (off < bytes.length) {
        off += await this.conn.write(bytes.subarray(off));
      }
    });
    this.#writing = run.catch(() => {});
    return run;
  }

  /**
   * The next line (without `\n`), or `null` at end of stream. Throws
   * {@linkcode ReadTimeout} when none came within `timeoutMs`.
   */
  readLine(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<string | null> {
    const unwrap = (item: Item | null): string | null => {
      if (item === null) return null;
      if ("error" in item) throw item.error;
      return item.line;
    };
    const first = this.#items.shift();
    if (first) return Promise.resolve().then(() => unwrap(first));
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = (item) => {
        clearTimeout(timer);
        try {
          resolve(unwrap(item));
        } catch (e) {
          reject(e);
        }
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new ReadTimeout(this.name, timeoutMs));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /**
   * Reads the next line and asserts it equals `expected` (when given).
   * Fails at end of stream.
   */
  async expectLine(
    expected?: string,
    timeoutMs: number = DEFAULT_TIMEOUT_MS,
  ): Promise<string> {
    const line = await this.readLine(timeoutMs);
    assert.notEqual(
      line,
      null,
      `${this.name}: stream ended, expected ${JSON.stringify(expected)}`,
    );
    if (expected !== undefined) {
      assert.equal(line, expected, `${this.name}: unexpected line`);
    }
    return line as string;
  }

  /** Asserts that no line (and no end of stream) comes within `ms`. */
  async expectSilence(ms: number): Promise<void> {
    let line: string | null;
    try {
      line = await this.readLine(ms);
    } catch (e) {
      if (e instanceof ReadTimeout) return;
      throw e;
    }
    assert.fail(
      `${this.name}: expected nothing for ${ms} ms, got ` +
        (line === null ? "end of stream" : JSON.stringify(line)),
    );
  }

  /** Asserts the remote end closes the stream within `timeoutMs`. */
  async expectClosed(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<void> {
    const line = await this.readLine(timeoutMs);
    assert.equal(line, null, `${this.name}: expected end of stream`);
  }

  /** Closes the connection and waits for the pump to stop. Idempotent. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch {
        // already closed
      }
    }
    await this.#writing;
    await this.#pump;
  }
}

/** Options of {@linkcode WirePeer.connect}. */
export interface PeerOptions {
  /** Name used in failure messages (default: the user logged in, or "peer"). */
  name?: string;
  /**
   * Whether Lb answers each `/from` and `/broadcastfrom` line with `302` by
   * itself (default true). Received lines are queued for reading either way.
   */
  autoReply?: boolean;
}

/**
 * A client of the IM protocol at the wire level: La, an Lb listener, Lb.
 */
export class WirePeer {
  /** La: the peer's connection to the server. */
  readonly la: LineConn;
  /** Every line on both links, e.g. `CLIENT(a): /list`, `SERVER(b): /from ...`. */
  readonly transcript: string[] = [];
  /** Name used in failure messages. */
  name: string;
  #autoReply: boolean;
  #lb?: LineConn;
  #listener?: Deno.TcpListener;
  #accepting?: Promise<unknown>;
  #closing?: Promise<void>;

  private constructor(conn: Deno.TcpConn, options: PeerOptions) {
    this.name = options.name ?? "peer";
    this.#autoReply = options.autoReply ?? true;
    this.la = new LineConn(conn, `${this.name}/La`);
    this.la.onRecord = (dir, line) => this.#record("a", dir, line);
  }

  /** Opens La to `address`. */
  static async connect(
    address: Address,
    options: PeerOptions = {},
  ): Promise<WirePeer> {
    const conn = await Deno.connect({
      hostname: address.hostname,
      port: address.port,
    });
    conn.setNoDelay(true);
    return new WirePeer(conn, options);
  }

  #record(link: "a" | "b", dir: "in" | "out", line: string): void {
    this.transcript.push(
      `${dir === "in" ? "SERVER" : "CLIENT"}(${link}): ${line}`,
    );
  }

  /** Lb, once the server has connected it (throws before). */
  get lb(): LineConn {
    assert.ok(this.#lb, `${this.name}: Lb not built`);
    return this.#lb;
  }

  /** Whether Lb replies `302` on its own; may be changed at any time. */
  get autoReply(): boolean {
    return this.#autoReply;
  }
  set autoReply(on: boolean) {
    this.#autoReply = on;
  }

  /** Sends a line on La. */
  send(line: string): Promise<void> {
    return this.la.send(line);
  }

  /** Sends raw bytes on La. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.la.sendRaw(bytes);
  }

  /** Reads the next line on La (`null` at end of stream). */
  readLine(timeoutMs?: number): Promise<string | null> {
    return this.la.readLine(timeoutMs);
  }

  /** Reads the next line on La and asserts it equals `expected`. */
  expectLine(expected?: string, timeoutMs?: number): Promise<string> {
    return this.la.expectLine(expected, timeoutMs);
  }

  /** Sends `line` on La and asserts the reply is exactly `expected`. */
  async request(line: string, expected: string): Promise<void> {
    await this.send(line);
    await this.expectLine(expected);
  }

  /** Sends `/login name password` and asserts `101`. */
  async login(name: string, password: string): Promise<void> {
    if (this.name === "peer") this.name = name;
    await this.request(`/login ${name} ${password}`, Status.AUTH_OK);
  }

  /**
   * Opens the Lb listener on a free port of La's local address and returns
   * the port. The first connection to it becomes Lb; then it stops listening.
   */
  listenLb(): number {
    assert.equal(this.#listener, undefined, `${this.name}: already listening`);
    const local = this.la.conn.localAddr;
    const listener = Deno.listen({ hostname: local.hostname, port: 0 });
    this.#listener = listener;
    this.#accepting = listener.accept().then(
      (conn) => {
        this.#closeListener();
        if (this.#closing) {
          conn.close();
          return;
        }
        conn.setNoDelay(true);
        const lb = new LineConn(conn, `${this.name}/Lb`);
        lb.onRecord = (dir, line) => this.#record("b", dir, line);
        lb.onLine = (line) =>
          this.#autoReply &&
            (line.startsWith("/from ") || line.startsWith("/broadcastfrom "))
            ? Status.RECEIPT_OK
            : undefined;
        this.#lb = lb;
      },
      () => {}, // listener closed before any connection
    );
    return listener.addr.port;
  }

  /** Waits until the server has connected Lb, within `timeoutMs`. */
  async acceptLb(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<LineConn> {
    assert.ok(this.#accepting, `${this.name}: not listening for Lb`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const what = await Promise.race([this.#accepting, timeout]);
      assert.notEqual(what, "timeout", `${this.name}: no Lb connection`);
    } finally {
      clearTimeout(timer);
    }
    return this.lb;
  }

  /** Whether Lb has been connected by the server. */
  get hasLb(): boolean {
    return this.#lb !== undefined;
  }

  /**
   * Opens the listener, sends `/port N`, accepts Lb and asserts `201`.
   */
  async buildLb(): Promise<void> {
    const port = this.listenLb();
    await this.send(`/port ${port}`);
    await this.expectLine(Status.BUILD_OK);
    await this.acceptLb();
  }

  /** {@linkcode login} then {@linkcode buildLb}. */
  async join(name: string, password: string): Promise<void> {
    await this.login(name, password);
    await this.buildLb();
  }

  /** Sends `/list` and returns the names of the exact `301` reply. */
  async list(): Promise<string[]> {
    await this.send("/list");
    const line = await this.expectLine();
    assert.match(line, /^301( [^ ]+)+$/, `${this.name}: bad /list reply`);
    return line.split(" ").slice(1);
  }

  #closeListener(): void {
    const listener = this.#listener;
    if (!listener) return;
    try {
      listener.close();
    } catch {
      // already closed
    }
  }

  /** Closes La, Lb and the listener. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closeListener();
      await this.#accepting;
      await Promise.all([this.la.close(), this.#lb?.close()]);
    })();
    return this.#closing;
  }
}
