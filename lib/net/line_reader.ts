/**
 * Reads decoded lines from a byte source such as a `Deno.Conn` or
 * `Deno.stdin`.
 *
 * @module
 */

import {
  DEFAULT_MAX_LINE_BYTES,
  type Frame,
  LINE_TOO_LONG,
  LineFramer,
} from "./line_framer.ts";

export { DEFAULT_MAX_LINE_BYTES, LINE_TOO_LONG };

/** Stands in for a line whose bytes are not valid UTF-8. */
export const LINE_NOT_UTF8: unique symbol = Symbol("line not UTF-8");

/** A line read: its text, or a mark for a line that could not be taken. */
export type LineResult = string | typeof LINE_TOO_LONG | typeof LINE_NOT_UTF8;

/** Anything that reads bytes the way `Deno.Conn` does. */
export interface ByteSource {
  /** Reads into `buffer`; resolves to the count read, or `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
}

/** Options for {@linkcode LineReader}. */
export interface LineReaderOptions {
  /** Longest accepted line in bytes, terminator excluded. */
  maxLineBytes?: number;
  /** Size of the read buffer. */
  bufferSize?: number;
  /**
   * When true (the default), a line that is not valid UTF-8 is reported as
   * {@linkcode LINE_NOT_UTF8}; when false, bad bytes become U+FFFD.
   */
  strictUtf8?: boolean;
  /**
   * When true, bytes after the last `\n` count as a final line at the end of
   * the source (right for a file or a pipe); when false (the default) they
   * are dropped, as a peer that vanished mid-line did not finish it.
   */
  acceptUnterminated?: boolean;
  /** Keep a `\r` before the `\n` in the line (default false). */
  keepCarriageReturn?: boolean;
}

const DEFAULT_BUFFER_SIZE = 4096;
const ASCII_FAST_PATH_BYTES = 256;
// Whole lines are decoded in one call each, so decoders keep no state
// between calls and one of each kind serves every reader.
const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LENIENT = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Pulls lines from a {@linkcode ByteSource}. Only complete lines are decoded,
 * so a character split across reads arrives whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineReader } from "./line_reader.ts";
 *
 * const chunks = [new TextEncoder().encode("/list\n/to bob hi\n")];
 * const source = {
 *   read(buffer: Uint8Array): Promise<number | null> {
 *     const chunk = chunks.shift();
 *     if (chunk === undefined) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 * };
 * const lines = new LineReader(source);
 * assert.equal(await lines.readLine(), "/list");
 * assert.equal(await lines.readLine(), "/to bob hi");
 * assert.equal(await lines.readLine(), null);
 * ```
 */
export class LineReader {
  readonly #source: ByteSource;
  readonly #framer: LineFramer;
  readonly #decoder: TextDecoder;
  readonly #buffer: Uint8Array;
  #ready: LineResult[] = [];
  #next = 0;
  #ended = false;
  readonly #acceptUnterminated: boolean;

  /** Wraps `source`; nothing is read until the first `readLine`. */
  constructor(source: ByteSource, options: LineReaderOptions = {}) {
    this.#source = source;
    this.#framer = new LineFramer({
      maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
      keepCarriageReturn: options.keepCarriageReturn,
    });
    this.#decoder = options.strictUtf8 ?? true ? STRICT : LENIENT;
    this.#buffer = new Uint8Array(options.bufferSize ?? DEFAULT_BUFFER_SIZE);
    this.#acceptUnterminated = options.acceptUnterminated ?? false;
  }

  /**
   * The next line, without its terminator; `null` once the source has ended.
   * Errors from the source are passed on.
   */
  async readLine(): Promise<LineResult | null> {
    while (this.#next === this.#ready.length) {
      const frames = await this.#readFrames();
      if (frames === null) return null;
      this.#ready = frames.map((frame) => this.#decode(frame));
      this.#next = 0;
    }
    return this.#ready[this.#next++];
  }

  /**
   * Reads to the end, handing each line to `onLine` as it is framed. When
   * `onLine` returns a promise, reading waits for it: a slow consumer holds
   * back the source. Resolves at the end of the source; errors from the
   * source are passed on.
   *
   * One read loop with no suspended call per line is lighter, for a
   * long-lived connection, than calling {@linkcode LineReader.readLine}
   * in a loop. Do not mix the two on one reader.
   */
  async forEachLine(
    onLine: (line: LineResult) => void | Promise<void>,
  ): Promise<void> {
    while (this.#next < this.#ready.length) {
      const handled = onLine(this.#ready[this.#next++]);
      if (handled !== undefined) await handled;
    }
    for (;;) {
      const frames = await this.#readFrames();
      if (frames === null) return;
      for (const frame of frames) {
        const handled = onLine(this.#decode(frame));
        if (handled !== undefined) await handled;
      }
    }
  }

  /**
   * One read's worth of lines; at the end of the source, the unterminated
   * last line if it counts, then `null`.
   */
  async #readFrames(): Promise<Frame[] | null> {
    if (this.#ended) return null;
    const count = await this.#source.read(this.#buffer);
    if (count !== null) {
      return this.#framer.push(this.#buffer.subarray(0, count));
    }
    this.#ended = true;
    const last = this.#acceptUnterminated ? this.#framer.flush() : undefined;
    return last === undefined ? null : [last];
  }

  #decode(frame: Frame): LineResult {
    if (frame === LINE_TOO_LONG) return LINE_TOO_LONG;
    if (frame.length <= ASCII_FAST_PATH_BYTES && isAscii(frame)) {
      // Cheaper than a call into the decoder for the short lines that
      // make up most of the traffic.
      return String.fromCharCode.apply(null, frame as unknown as number[]);
    }
    try {
      return this.#decoder.decode(frame);
    } catch {
      return LINE_NOT_UTF8;
    }
  }
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 0x7f) return false;
  }
  return true;
}
