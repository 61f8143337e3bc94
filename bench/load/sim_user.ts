/**
 * One simulated user of the load generator: a real protocol client. It logs
 * in on link La, listens for link Lb on the local address La uses, sends
 * `/port`, takes the server's connection, and from then on answers every
 * line arriving on Lb (`/from …` or `/broadcastfrom …`) with
 * `302 Message receipt successful`.
 *
 * It is built to be cheap, so that thousands fit in one process and the load
 * generator stays out of the measurement's way: replies on La are matched to
 * their commands first in, first out, with callbacks rather than promises on
 * the hot path; Lb lines are counted, not decoded, unless a probe watches for
 * a particular content.
 *
 * La is opened with `node:net`, the one socket API in Deno that binds a
 * chosen local address before connecting: users spread over several loopback
 * addresses (127.x.y.z) so that ports do not run out.
 *
 * @module
 */

import net from "node:net";
import {
  AUTH_SUCCESSFUL,
  BUILD_SUCCESSFUL,
  formatLogin,
  formatPort,
  RECEIPT_SUCCESSFUL,
} from "../../lib/protocol.ts";
import { userName, userPassword } from "./users.ts";

/** Called with a reply on La, or `undefined` when La closed first. */
export type ReplyHandler = (reply: string | undefined) => void;

/** A simulated user of either kind, as a worker drives it. */
export interface LoadUser {
  /** The user's name. */
  readonly name: string;
  /** Connects and logs in, with the chat link set up. */
  login(host: string, port: number, timeoutMs: number): Promise<void>;
  /** What `send` writes for a command line, made once for a loop. */
  prepare(line: string): Uint8Array | string;
  /** Writes a prepared command; `onReply` gets the reply, in order. */
  send(prepared: Uint8Array | string, onReply: ReplyHandler): void;
  /** Sends a command line and resolves to the reply. */
  request(line: string): Promise<string>;
  /** Closes the user's links. */
  close(): void;
}

/** Watches Lb for lines ending with a token and records when they came. */
export class Probe {
  /** The content watched for. */
  readonly token: string;
  /** Identifies this probe among earlier ones. */
  readonly id: number;
  /** Receipt times, wall clock in milliseconds since the epoch. */
  readonly times: number[] = [];
  /** Distinct users that received a matching line. */
  users = 0;

  /** Creates a probe for lines that end with `token`. */
  constructor(token: string, id: number) {
    this.token = token;
    this.id = id;
  }
}

/** Counters shared by the users of one worker. */
export interface Tally {
  /** `303` replies to looped `/to` messages. */
  delivered: number;
  /** Other replies to them. */
  failed: number;
  /** Lines received on Lb. */
  received: number;
  /** Users whose link closed without being asked to. */
  dropped: number;
  /** The probe in progress, if any. */
  probe: Probe | undefined;
}

/** A new tally with every counter at zero. */
export function newTally(): Tally {
  return { delivered: 0, failed: 0, received: 0, dropped: 0, probe: undefined };
}

/** Wall clock time in milliseconds, with sub-millisecond resolution. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

const LF = 0x0a;
const LB_BUFFER_BYTES = 1024;
const MAX_PROBE_TAIL = 4096;
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const RECEIPTS: Uint8Array[] = [new Uint8Array(0)];

/** `count` receipt lines in one buffer. */
function receipts(count: number): Uint8Array {
  while (RECEIPTS.length <= count) {
    RECEIPTS.push(
      encoder.encode(`${RECEIPT_SUCCESSFUL}\n`.repeat(RECEIPTS.length)),
    );
  }
  return RECEIPTS[count];
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** One simulated user. */
export class SimUser implements LoadUser {
  /** The user's index: its name is `u<index>`. */
  readonly index: number;
  /** The local address La is bound to, and Lb listens on. */
  readonly address: string;
  readonly #tally: Tally;
  #la: net.Socket | undefined;
  #lb: Deno.TcpConn | undefined;
  #listener: Deno.TcpListener | undefined;
  #handlers: ReplyHandler[] = [];
  #carry = "";
  #lbTail = "";
  #lastProbe = -1;
  #closing = false;
  #dropped = false;

  /** A user that is not connected yet. */
  constructor(index: number, address: string, tally: Tally) {
    this.index = index;
    this.address = address;
    this.#tally = tally;
  }

  /** The user's name. */
  get name(): string {
    return userName(this.index);
  }

  /** Whether both links are up. */
  get online(): boolean {
    return this.#la !== undefined && this.#lb !== undefined && !this.#closing;
  }

  /**
   * Connects La, logs in, and sets up Lb; rejects (and closes whatever was
   * opened) on any failure or when it takes longer than `timeoutMs`.
   */
  async login(host: string, port: number, timeoutMs: number): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      await this.#login(host, port);
    } catch (error) {
      this.close();
      if (timedOut) throw new Error(`login took over ${timeoutMs} ms`);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #login(host: string, port: number): Promise<void> {
    const la = net.connect({ host, port, localAddress: this.address });
    this.#la = la;
    await new Promise<void>((resolve, reject) => {
      la.once("connect", resolve);
      la.once("error", reject);
      la.once("close", () => reject(new Error("La closed while connecting")));
    });
    la.removeAllListeners();
    la.setNoDelay(true);
    la.setEncoding("latin1");
    la.on("data", (text: string) => this.#onLaData(text));
    la.on("error", () => {});
    la.on("close", () => this.#onLaClosed());

    const login = await this.request(
      formatLogin(this.name, userPassword(this.index)),
    );
    if (login !== AUTH_SUCCESSFUL) throw new Error(`/login: ${login}`);

    const listener = Deno.listen({ hostname: this.address, port: 0 });
    this.#listener = listener;
    try {
      const accepted = listener.accept();
      accepted.catch(() => {});
      const built = await this.request(formatPort(listener.addr.port));
      if (built !== BUILD_SUCCESSFUL) throw new Error(`/port: ${built}`);
      // The server answers 201 once Lb is connected: it is in the queue.
      const lb = await accepted;
      if (this.#closing) {
        lb.close();
        throw new Error("closed during login");
      }
      lb.setNoDelay(true);
      this.#lb = lb;
      this.#serveLb(lb);
    } finally {
      this.#listener = undefined;
      listener.close();
    }
  }

  /** The bytes of a command line, `\n` included. */
  prepare(line: string): Uint8Array {
    return encoder.encode(line + "\n");
  }

  /**
   * Writes a command (its bytes, `\n` included) on La; `onReply` gets the
   * reply, in order with the other commands.
   */
  send(bytes: Uint8Array, onReply: ReplyHandler): void {
    const la = this.#la;
    if (la === undefined || this.#closing) {
      queueMicrotask(() => onReply(undefined));
      return;
    }
    this.#handlers.push(onReply);
    la.write(bytes);
  }

  /** Sends `line` on La and resolves to the reply. */
  request(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.send(encoder.encode(line + "\n"), (reply) => {
        if (reply !== undefined) resolve(reply);
        else reject(new Error(`La closed before the reply to ${line}`));
      });
    });
  }

  /** Closes both links (and a pending Lb listener); idempotent. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#listener?.close();
    } catch {
      // Already closed.
    }
    try {
      this.#lb?.close();
    } catch {
      // Already closed.
    }
    this.#la?.destroy();
    this.#failPending();
  }

  #onLaData(text: string): void {
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end === -1) break;
      let line = text.slice(start, end);
      if (this.#carry !== "") {
        line = this.#carry + line;
        this.#carry = "";
      }
      start = end + 1;
      // A line nobody waits for is dropped.
      this.#handlers.shift()?.(line);
    }
    if (start < text.length) this.#carry += text.slice(start);
  }

  #onLaClosed(): void {
    this.#markDropped();
    this.#failPending();
  }

  #failPending(): void {
    const handlers = this.#handlers;
    this.#handlers = [];
    for (const handler of handlers) handler(undefined);
  }

  #markDropped(): void {
    if (this.#closing || this.#dropped) return;
    this.#dropped = true;
    this.#tally.dropped++;
  }

  /** Answers each line on Lb with a receipt, at once. */
  async #serveLb(lb: Deno.TcpConn): Promise<void> {
    const buffer = new Uint8Array(LB_BUFFER_BYTES);
    try {
      for (;;) {
        const count = await lb.read(buffer);
        if (count === null) break;
        const chunk = buffer.subarray(0, count);
        let lines = 0;
        for (
          let at = chunk.indexOf(LF);
          at !== -1;
          at = chunk.indexOf(LF, at + 1)
        ) {
          lines++;
        }
        if (this.#tally.probe !== undefined) this.#watch(chunk);
        else this.#lbTail = "";
        if (lines === 0) continue;
        this.#tally.received += lines;
        await writeAll(lb, receipts(lines));
      }
    } catch {
      // A reset, or closed by this end.
    }
    this.#markDropped();
    if (!this.#closing) this.#la?.destroy();
  }

  /** Records the lines of `chunk` that end with the probe's token. */
  #watch(chunk: Uint8Array): void {
    const probe = this.#tally.probe;
    if (probe === undefined) return;
    const at = wallClock();
    const text = this.#lbTail + latin1.decode(chunk);
    let start = 0;
    for (;;) {
      const end = text.indexOf("\n", start);
      if (end === -1) break;
      const line = text.charCodeAt(end - 1) === 0x0d
        ? text.slice(start, end - 1)
        : text.slice(start, end);
      if (line.endsWith(probe.token)) {
        probe.times.push(at);
        if (this.#lastProbe !== probe.id) {
          this.#lastProbe = probe.id;
          probe.users++;
        }
      }
      start = end + 1;
    }
    this.#lbTail = text.slice(start).slice(-MAX_PROBE_TAIL);
  }
}
