/**
 * Fault injection for the fault-matrix, hostile-peer and server-option
 * tests: peers that can close or reset each link on demand, a peer process
 * that can be killed, a listener that never accepts, and probes of the
 * server's state (its `stats()`, its sockets as `ss` sees them, its log).
 *
 * How each fault is made, on Linux:
 * - **FIN** (a link closed): `socket.end()`, a half-close. The server reads
 *   end of stream exactly as after `close()`, and the peer keeps reading, so
 *   a test can also see the server close its side.
 * - **RST** (a connection reset): `node:net`'s `resetAndDestroy()`, which
 *   sets `SO_LINGER` to 0 and closes: the kernel sends RST at once and the
 *   server's next read fails with ECONNRESET. (`Deno.Conn.close()` cannot do
 *   this: it always calls `shutdown(SHUT_WR)` first, so the server would read
 *   a clean end of stream even with unread data left behind.)
 * - **SIGKILL**: the peer runs as its own process ({@linkcode ScriptedPeer})
 *   and the kernel closes its sockets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import type { ServerStats } from "../../lib/server/mod.ts";
import {
  type ProcessScope,
  type ServerProcess,
  START_TIMEOUT_MS,
  TestProcess,
} from "./processes.ts";
import { delay } from "../../lib/async/delay.ts";
import type { Address } from "./wire_peer.ts";

export {
  type SocketRow,
  type StalledListener,
  stalledListener,
  tcpSockets,
} from "./sockets.ts";

/** La (`a`, the client's connection to the server) or Lb (`b`). */
export type Link = "a" | "b";

/** Default time to wait for an expected line or event, in milliseconds. */
export const WAIT_MS = 3_000;

// ---------------------------------------------------------------------------
// Polling.

/**
 * Polls `condition` every few milliseconds until it holds; fails after
 * `timeoutMs` with `describe()`'s account of the last state.
 */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  describe: () => string,
  timeoutMs: number = WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() >= deadline) {
      assert.fail(`after ${timeoutMs} ms: ${describe()}`);
    }
    await delay(5);
  }
}

/** The part of `stats()` that must return to its baseline after a fault. */
export type Holdings = Omit<ServerStats, "refusedConnections">;

/** `stats()` without the running total of refused connections. */
export function holdings(stats: ServerStats): Holdings {
  const { refusedConnections: _, ...rest } = stats;
  return rest;
}

/** Waits until the server holds exactly `baseline` again. */
export async function waitForHoldings(
  server: { stats(): ServerStats },
  baseline: Holdings,
  timeoutMs: number,
  what = "the server's stats() return to the baseline",
): Promise<void> {
  await pollUntil(
    () => isDeepEqual(holdings(server.stats()), baseline),
    () =>
      `${what}: expected ${JSON.stringify(baseline)}, got ${
        JSON.stringify(holdings(server.stats()))
      }`,
    timeoutMs,
  );
}

function isDeepEqual(a: Holdings, b: Holdings): boolean {
  return (Object.keys(b) as (keyof Holdings)[]).every((key) =>
    a[key] === b[key]
  ) && Object.keys(a).length === Object.keys(b).length;
}

// ---------------------------------------------------------------------------
// A link whose faults the test controls.

/**
 * One `node:net` socket read as lines (without their `\n`). Reading is eager;
 * lines queue until read. End of stream and resets both read as `null`.
 */
export class NetLine {
  /** The socket. */
  readonly socket: net.Socket;
  /** Name used in failure messages, e.g. `jacky/La`. */
  readonly name: string;
  /** Settles once the socket is fully closed. */
  readonly closed: Promise<void>;
  /** The socket error seen, if any (a reset by the server, say). */
  error: Error | undefined;
  readonly #lines: string[] = [];
  readonly #waiters = new Set<() => void>();
  #partial: Buffer = Buffer.alloc(0);
  #ended = false;

  /** Wraps `socket` at once, before any event can be missed. */
  constructor(socket: net.Socket, name: string) {
    this.socket = socket;
    this.name = name;
    const closed = Promise.withResolvers<void>();
    this.closed = closed.promise;
    socket.on("data", (chunk: Buffer) => {
      let data = Buffer.concat([this.#partial, chunk]);
      let newline: number;
      while ((newline = data.indexOf(0x0a)) >= 0) {
        this.#lines.push(data.subarray(0, newline).toString("utf8"));
        data = data.subarray(newline + 1);
      }
      this.#partial = Buffer.from(data);
      this.#notify();
    });
    socket.on("end", () => this.#end());
    socket.on("error", (error: Error) => {
      this.error = error;
    });
    socket.on("close", () => {
      this.#end();
      closed.resolve();
    });
  }

  /** Whether the stream has ended (closed by either side, or reset). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Lines received and not yet read. */
  get pending(): number {
    return this.#lines.length;
  }

  #end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  /** Writes `line` and `\n`; resolves once handed to the kernel. */
  send(line: string): Promise<void> {
    return this.write(`${line}\n`);
  }

  /** Writes `text` as is (no `\n` added); resolves once handed to the kernel. */
  write(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(text, (error) => error ? reject(error) : resolve());
    });
  }

  /** The next line, or `null` once the stream has ended. */
  async readLine(timeoutMs: number = WAIT_MS): Promise<string | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#ended) return null;
      const left = deadline - performance.now();
      if (left <= 0) {
        assert.fail(`${this.name}: no line and no end within ${timeoutMs} ms`);
      }
      // Wake up on the next line or end, or at the deadline.
      const waiters = this.#waiters;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        waiters.add(done);
      });
    }
  }

  /** Reads the next line and asserts it is `expected`. */
  async expectLine(
    expected: string,
    timeoutMs: number = WAIT_MS,
  ): Promise<void> {
    const line = await this.readLine(timeoutMs);
    assert.equal(line, expected, `${this.name}: unexpected line`);
  }

  /**
   * Waits until the server has closed its side (end of stream or reset),
   * reading past any lines still arriving; returns them.
   */
  async expectEnd(timeoutMs: number = WAIT_MS): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    const lines: string[] = [];
    for (;;) {
      const left = Math.max(1, deadline - performance.now());
      let line: string | null;
      try {
        line = await this.readLine(left);
      } catch {
        assert.fail(
          `${this.name}: the server did not close this link within ${timeoutMs} ms` +
            (lines.length > 0 ? ` (it sent ${JSON.stringify(lines)})` : ""),
        );
      }
      if (line === null) return lines;
      lines.push(line);
    }
  }

  /** Sends FIN (half-close); reading goes on. */
  fin(): void {
    this.socket.end();
  }

  /** Sends RST at once (`SO_LINGER` 0, then close). */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /** Closes the socket (if still open) and waits until it is closed. */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }
}

/**
 * Opens a connection to `address` from `options.localAddress` (another
 * loopback address, say: `127.0.0.2`) and reads it as lines.
 */
export async function connectLine(
  address: Address,
  options: { name: string; localAddress?: string },
): Promise<NetLine> {
  const socket = net.connect({
    host: address.hostname,
    port: address.port,
    localAddress: options.localAddress,
  });
  const line = new NetLine(socket, options.name);
  try {
    await once(socket, "connect");
  } catch (error) {
    await line.destroy();
    throw error;
  }
  socket.setNoDelay(true);
  return line;
}

/** What the steps of the dialog need from a faulty peer, in or out of process. */
export interface StepDriver {
  /** Name used in failure messages. */
  readonly name: string;
  /** Sends `line` on a link; resolves once it is written. */
  send(link: Link, line: string): Promise<void>;
  /** Waits for the next line on a link and asserts it is `line`. */
  expect(link: Link, line: string, timeoutMs?: number): Promise<void>;
  /** Opens the Lb listener on La's local address; returns its port. */
  listen(): Promise<number>;
  /** Waits until the server has connected Lb and it was accepted. */
  acceptedLb(timeoutMs?: number): Promise<void>;
}

/**
 * A client at the wire level, in the test's process, on `node:net` sockets,
 * so that each link can be half-closed or reset on demand.
 */
export class NetPeer implements StepDriver {
  /** Name used in failure messages. */
  readonly name: string;
  /** La. */
  readonly la: NetLine;
  #lb: NetLine | undefined;
  #listener: net.Server | undefined;
  #listenerClosed: Promise<void> = Promise.resolve();
  readonly #accepted = Promise.withResolvers<NetLine>();
  readonly #strays: Promise<void>[] = [];

  private constructor(socket: net.Socket, name: string) {
    this.name = name;
    this.la = new NetLine(socket, `${name}/La`);
  }

  /** Opens La to `address`. */
  static async connect(address: Address, name = "peer"): Promise<NetPeer> {
    const socket = net.connect({ host: address.hostname, port: address.port });
    const peer = new NetPeer(socket, name);
    try {
      await once(socket, "connect");
    } catch (error) {
      await peer.la.destroy();
      throw error;
    }
    socket.setNoDelay(true);
    return peer;
  }

  /** Lb, once accepted (fails before). */
  get lb(): NetLine {
    assert.ok(this.#lb, `${this.name}: Lb not accepted`);
    return this.#lb;
  }

  /** Whether Lb has been accepted. */
  get hasLb(): boolean {
    return this.#lb !== undefined;
  }

  send(link: Link, line: string): Promise<void> {
    return (link === "a" ? this.la : this.lb).send(line);
  }

  async expect(link: Link, line: string, timeoutMs?: number): Promise<void> {
    await (link === "a" ? this.la : this.lb).expectLine(line, timeoutMs);
  }

  async listen(): Promise<number> {
    assert.equal(this.#listener, undefined, `${this.name}: already listening`);
    const listener = net.createServer();
    this.#listener = listener;
    this.#listenerClosed = new Promise((resolve) =>
      listener.once("close", () => resolve())
    );
    listener.on("connection", (socket: net.Socket) => {
      if (this.#lb !== undefined) {
        // Only the first connection is Lb.
        const stray = new NetLine(socket, `${this.name}/stray`);
        this.#strays.push(stray.destroy());
        return;
      }
      socket.setNoDelay(true);
      this.#lb = new NetLine(socket, `${this.name}/Lb`);
      this.#closeListener();
      this.#accepted.resolve(this.#lb);
    });
    listener.listen(0, this.la.socket.localAddress);
    await once(listener, "listening");
    return (listener.address() as net.AddressInfo).port;
  }

  async acceptedLb(timeoutMs: number = WAIT_MS): Promise<void> {
    assert.ok(this.#listener, `${this.name}: not listening for Lb`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const result = await Promise.race([this.#accepted.promise, timeout]);
      assert.notEqual(result, "timeout", `${this.name}: no Lb connection`);
    } finally {
      clearTimeout(timer);
    }
  }

  #closeListener(): void {
    if (this.#listener?.listening) this.#listener.close();
  }

  /** Closes every socket and the listener, and waits until they are closed. */
  async close(): Promise<void> {
    this.#closeListener();
    await Promise.all([this.la.destroy(), this.#lb?.destroy()]);
    await Promise.all(this.#strays);
    await this.#listenerClosed;
  }
}

// ---------------------------------------------------------------------------
// A faulty peer in a process of its own.

/** The script behind {@linkcode ScriptedPeer}. */
export const SCRIPTED_PEER_SCRIPT: string = fileURLToPath(
  new URL("./scripted_peer.ts", import.meta.url),
);

/**
 * A peer running `scripted_peer.ts` as a child process, driven line by line,
 * so that it can be killed at any step.
 */
export class ScriptedPeer implements StepDriver {
  /** The child process. */
  readonly process: TestProcess;
  readonly name: string;
  readonly #cursors = new Map<string, number>();

  private constructor(process: TestProcess) {
    this.process = process;
    this.name = process.name;
  }

  /** Starts the process; resolves once La is connected. */
  static async start(address: Address, name: string): Promise<ScriptedPeer> {
    const peer = new ScriptedPeer(
      new TestProcess({
        name,
        args: [
          "run",
          "--allow-net",
          SCRIPTED_PEER_SCRIPT,
          address.hostname,
          String(address.port),
        ],
      }),
    );
    try {
      await peer.#next("connected", START_TIMEOUT_MS);
    } catch (error) {
      await peer.dispose();
      throw error;
    }
    return peer;
  }

  /** The next report of `kind` not yet taken (kinds: `<a`, `<b`, `sent`…). */
  async #next(kind: string, timeoutMs: number = WAIT_MS): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const lines = this.process.lines;
      for (let i = this.#cursors.get(kind) ?? 0; i < lines.length; i++) {
        if (kindOf(lines[i]) === kind) {
          this.#cursors.set(kind, i + 1);
          return lines[i];
        }
      }
      this.#cursors.set(kind, lines.length);
      assert.ok(
        !this.process.exited,
        `${this.name}: ended while waiting for "${kind}"\n${this.process.report()}`,
      );
      assert.ok(
        performance.now() < deadline,
        `${this.name}: no "${kind}" report within ${timeoutMs} ms\n${this.process.report()}`,
      );
      await delay(5);
    }
  }

  async send(link: Link, line: string): Promise<void> {
    await this.process.writeLine(`${link} ${line}`);
    const report = await this.#next("sent");
    assert.equal(report, `sent ${link} ${line}`, this.process.report());
  }

  async expect(link: Link, line: string, timeoutMs?: number): Promise<void> {
    const report = await this.#next(`<${link}`, timeoutMs);
    assert.equal(report, `< ${link} ${line}`, `${this.name}: unexpected line`);
  }

  async listen(): Promise<number> {
    await this.process.writeLine("listen");
    const report = await this.#next("listening");
    return Number(report.split(" ")[1]);
  }

  async acceptedLb(timeoutMs?: number): Promise<void> {
    await this.#next("accepted", timeoutMs);
  }

  /** Kills the process with SIGKILL and waits until it is gone. */
  async kill(): Promise<void> {
    this.process.kill("SIGKILL");
    await this.process.waitForExit();
  }

  /** Ends the process if it still runs. */
  async dispose(): Promise<void> {
    await this.process.dispose();
  }
}

function kindOf(report: string): string {
  if (report.startsWith("< a ")) return "<a";
  if (report.startsWith("< b ")) return "<b";
  return report.split(" ")[0];
}

// ---------------------------------------------------------------------------
// The server as a process.

/**
 * Spawns `server.ts` with `options` before its port (0) and users file, and
 * waits for the line naming the port it listens on.
 */
export async function startServerProcess(
  scope: ProcessScope,
  options: string[],
  usersFile: string,
): Promise<ServerProcess> {
  const server = scope.spawnServer([...options, "0", usersFile]);
  const first = await server.waitForLine(() => true, START_TIMEOUT_MS);
  const port = Number(first.match(/:(\d{1,5})\b/)?.[1]);
  assert.ok(
    Number.isInteger(port) && port > 0 && port <= 65535,
    `the server's first line names no port: ${
      JSON.stringify(first)
    }\n${server.report()}`,
  );
  server.port = port;
  return server;
}

/** Waits until `process` has printed something on stderr that `matches`. */
export async function waitForStderr(
  process: TestProcess,
  matches: (stderr: string) => boolean,
  what: string,
  timeoutMs: number = WAIT_MS,
): Promise<void> {
  await pollUntil(
    () => matches(process.stderr),
    () => `${process.name} did not print ${what}\n${process.report()}`,
    timeoutMs,
  );
}

/** How many lines of `text` match `pattern`. */
export function countLines(text: string, pattern: RegExp): number {
  return text.split("\n").filter((line) => pattern.test(line)).length;
}
