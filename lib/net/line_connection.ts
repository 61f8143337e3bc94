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
const SLAB_BYTES = 64 * 1024;
const LF = 0x0a;
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * The bytes of `line` with its terminating `\n`, ready to write.
 *
 * Lines are carved out of a shared slab rather than each given a buffer of
 * its own: allocating a small buffer costs more than encoding the line. A
 * slab is never written twice, so a line's bytes stay valid as long as it is
 * referenced (the slab is freed once none of its lines is).
 */
export function encodeLine(line: string): Uint8Array {
  const most = line.length * 3 + 1;
  if (slabUsed + most > slab.length) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, most));
    slabUsed = 0;
  }
  const start = slabUsed;
  let end = start;
  // Most lines are ASCII: copy them without a call into the encoder.
  let i = 0;
  for (; i < line.length; i++) {
    const code = line.charCodeAt(i);
    if (code > 0x7f) break;
    slab[end++] = code;
  }
  if (i < line.length) {
    end += encoder.encodeInto(line.slice(i), slab.subarray(end)).written;
  }
  slab[end++] = LF;
  slabUsed = end;
  return slab.subarray(start, end);
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

  /**
   * Hands every line from the peer to `onLine` until the peer closes the
   * connection (see {@linkcode LineReader.forEachLine}). Socket errors
   * reject, and so may closing this end: check
   * {@linkcode LineConnection.closed} to tell them apart.
   */
  forEachLine(
    onLine: (line: LineResult) => void | Promise<void>,
  ): Promise<void> {
    return this.#reader.forEachLine(onLine);
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
