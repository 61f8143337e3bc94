/**
 * A line relay that stands in for the network between a real client process
 * and the server, so that a test can freeze the dialog at a step the real
 * programs pass through too fast to catch: it forwards whole lines, and may
 * rewrite a line or hold it back (never deliver it).
 *
 * When either side ends or breaks, the relay closes the other side at once:
 * a server killed behind the relay looks to the client like a server killed
 * in front of it.
 *
 * @module
 */

import type { Address } from "./wire_peer.ts";

/** The side a line came from: the one that connected to the relay, or the target. */
export type RelaySide = "accepted" | "target";

/** Options of {@linkcode LineRelay}. */
export interface LineRelayOptions {
  /** Where the relay connects once it has accepted a connection. */
  target: Address;
  /**
   * Called with each complete line (without `\n`) and the side it came
   * from; returns the line to forward, or `null` to hold it back.
   */
  onLine?: (from: RelaySide, line: string) => string | null;
}

const encoder = new TextEncoder();

/**
 * Listens on 127.0.0.1; relays the first connection it accepts to the
 * target, line by line.
 */
export class LineRelay implements AsyncDisposable {
  /** The port to connect to instead of the target. */
  readonly port: number;
  /** Lines held back so far, as `<side>: <line>`. */
  readonly held: string[] = [];
  readonly #listener: Deno.TcpListener;
  readonly #options: LineRelayOptions;
  readonly #conns: Deno.TcpConn[] = [];
  readonly #done: Promise<void>;
  #listening = true;
  #closed = false;

  /** Starts listening at once. */
  constructor(options: LineRelayOptions) {
    this.#options = options;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#done = this.#run().catch(() => this.#closeAll());
  }

  async #run(): Promise<void> {
    let accepted: Deno.TcpConn;
    try {
      accepted = await this.#listener.accept();
    } catch {
      return; // closed before anyone came
    }
    this.#closeListener();
    this.#conns.push(accepted);
    const target = await Deno.connect(this.#options.target);
    this.#conns.push(target);
    if (this.#closed) return this.#closeAll();
    accepted.setNoDelay(true);
    target.setNoDelay(true);
    const forward = this.#pump(accepted, target, "accepted");
    const backward = this.#pump(target, accepted, "target");
    await Promise.race([forward, backward]);
    this.#closeAll();
    await Promise.all([forward, backward]);
  }

  async #pump(
    from: Deno.TcpConn,
    to: Deno.TcpConn,
    side: RelaySide,
  ): Promise<void> {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let pending = "";
    try {
      for (;;) {
        const n = await from.read(buffer);
        if (n === null) return;
        pending += decoder.decode(buffer.subarray(0, n), { stream: true });
        let newline: number;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          const out = this.#options.onLine
            ? this.#options.onLine(side, line)
            : line;
          if (out === null) {
            this.held.push(`${side}: ${line}`);
            continue;
          }
          const bytes = encoder.encode(`${out}\n`);
          for (let off = 0; off < bytes.length;) {
            off += await to.write(bytes.subarray(off));
          }
        }
      }
    } catch {
      // One side closed or broke: the relay ends.
    }
  }

  #closeListener(): void {
    if (!this.#listening) return;
    this.#listening = false;
    this.#listener.close();
  }

  #closeAll(): void {
    for (const conn of this.#conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  /** Stops listening, closes both sides and waits for the pumps. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closeListener();
    this.#closeAll();
    await this.#done;
    this.#closeAll();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
