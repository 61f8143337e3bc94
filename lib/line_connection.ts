/**
 * A TCP connection that carries text lines: the one place where protocol
 * lines are written to a socket and read back from it.
 *
 * @module
 */

import {
  LineReader,
  type LineReaderOptions,
  type LineResult,
} from "./line_reader.ts";

const encoder = new TextEncoder();

/** The bytes of `line` with its terminating `\n`, ready to write. */
export function encodeLine(line: string): Uint8Array {
  return encoder.encode(line + "\n");
}

/**
 * Lines over a `Deno.TcpConn`. Reads go through a {@linkcode LineReader};
 * `writeLine` appends the `\n` and writes the whole line. Callers keep to one
 * writer at a time per connection (the protocol's lock discipline does this).
 */
export class LineConnection {
  /** The underlying socket. */
  readonly conn: Deno.TcpConn;
  readonly #reader: LineReader;
  #closed = false;

  /** Wraps an open connection and turns off Nagle's delay for small lines. */
  constructor(conn: Deno.TcpConn, options: LineReaderOptions = {}) {
    this.conn = conn;
    this.#reader = new LineReader(conn, options);
    try {
      conn.setNoDelay(true);
      conn.setKeepAlive(true);
    } catch {
      // The peer may already be gone; the first read or write will say so.
    }
  }

  /** The peer's address. */
  get remoteAddr(): Deno.NetAddr {
    return this.conn.remoteAddr as Deno.NetAddr;
  }

  /** This end's address. */
  get localAddr(): Deno.NetAddr {
    return this.conn.localAddr as Deno.NetAddr;
  }

  /** Whether {@linkcode LineConnection.close} has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The next line from the peer, or `null` when the peer has closed the
   * connection or this end has. Socket errors (a reset, say) are thrown.
   */
  async readLine(): Promise<LineResult | null> {
    try {
      return await this.#reader.readLine();
    } catch (error) {
      if (this.#closed) return null;
      throw error;
    }
  }

  /** Writes `line` and its `\n`, all of it, or throws. */
  writeLine(line: string): Promise<void> {
    return this.write(encodeLine(line));
  }

  /** Writes bytes already framed by {@linkcode encodeLine}, or throws. */
  async write(bytes: Uint8Array): Promise<void> {
    let written = await this.conn.write(bytes);
    while (written < bytes.length) {
      written += await this.conn.write(bytes.subarray(written));
    }
  }

  /** Closes the connection; a pending read then resolves to `null`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}
