/**
 * Splits a byte stream into lines, however the stream is cut into chunks.
 *
 * A line ends with `\n`; a `\r` just before it is dropped too, so both `\n`
 * and `\r\n` terminate a line. A line longer than the limit is never held
 * whole: once it passes the limit its bytes are dropped as they arrive, and
 * when its terminator comes the framer reports {@linkcode LINE_TOO_LONG} in
 * its place.
 *
 * @module
 */

/** Stands in for a line that was longer than the limit. */
export const LINE_TOO_LONG: unique symbol = Symbol("line too long");

/** One framed line: its bytes without the terminator, or the too-long mark. */
export type Frame = Uint8Array | typeof LINE_TOO_LONG;

/** The default limit on a line's length, in bytes, terminator excluded. */
export const DEFAULT_MAX_LINE_BYTES = 65_536;

const LF = 0x0a;
const CR = 0x0d;
const KEPT_BUFFER_BYTES = 4096;
// Shared by every framer without a partial line: it is never written to.
const EMPTY = new Uint8Array(0);

/** Options for {@linkcode LineFramer}. */
export interface LineFramerOptions {
  /** Longest accepted line in bytes, terminator excluded. */
  maxLineBytes?: number;
  /**
   * Keep a `\r` before the `\n` as part of the line (default false: both
   * `\n` and `\r\n` end a line). For a reader that must see the exact bytes.
   */
  keepCarriageReturn?: boolean;
}

/**
 * Incremental line splitter. Feed it chunks with {@linkcode LineFramer.push};
 * it hands back every line the chunk completes.
 *
 * The lines it returns may be views into the chunk: they are valid as long
 * as the caller leaves the chunk's bytes alone.
 */
export class LineFramer {
  readonly #max: number;
  readonly #keepCR: boolean;
  #partial: Uint8Array = EMPTY;
  #partialLength = 0;
  #discarding = false;

  /** Creates a framer with an empty buffer. */
  constructor(options: LineFramerOptions = {}) {
    this.#max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#keepCR = options.keepCarriageReturn ?? false;
  }

  /** Bytes held of a line that has not ended yet. */
  get pendingBytes(): number {
    return this.#partialLength;
  }

  /** Adds a chunk and returns the lines it completes, in order. */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let start = 0;
    while (start <= chunk.length) {
      const end = chunk.indexOf(LF, start);
      if (end === -1) {
        this.#hold(chunk.subarray(start));
        break;
      }
      frames.push(this.#complete(chunk.subarray(start, end)));
      start = end + 1;
    }
    return frames;
  }

  /**
   * Ends the stream: returns the bytes of an unterminated last line, if any,
   * as a line of their own.
   */
  flush(): Frame | undefined {
    if (this.#discarding) {
      this.#discarding = false;
      return LINE_TOO_LONG;
    }
    if (this.#partialLength === 0) return undefined;
    return this.#complete(EMPTY);
  }

  #hold(bytes: Uint8Array): void {
    if (this.#discarding || bytes.length === 0) return;
    // One byte over the limit may still be the `\r` of a `\r\n`.
    const needed = this.#partialLength + bytes.length;
    if (needed > this.#max + 1) {
      this.#discard();
      return;
    }
    if (needed > this.#partial.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(needed, this.#partial.length * 2, 64), this.#max + 1),
      );
      grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(bytes, this.#partialLength);
    this.#partialLength = needed;
  }

  #complete(tail: Uint8Array): Frame {
    if (this.#discarding) {
      this.#discarding = false;
      return LINE_TOO_LONG;
    }
    let line = tail;
    if (this.#partialLength > 0) {
      const length = this.#partialLength + tail.length;
      this.#partialLength = 0;
      if (length > this.#max + 1) return LINE_TOO_LONG;
      if (length > this.#partial.length) {
        const grown = new Uint8Array(length);
        grown.set(this.#partial.subarray(0, length - tail.length));
        this.#partial = grown;
      }
      this.#partial.set(tail, length - tail.length);
      // A copy: the rest of this chunk may start the next line in #partial.
      line = this.#partial.slice(0, length);
      // A long line's buffer is not kept for the rest of the connection.
      if (this.#partial.length > KEPT_BUFFER_BYTES) {
        this.#partial = EMPTY;
      }
    }
    if (!this.#keepCR && line.length > 0 && line[line.length - 1] === CR) {
      line = line.subarray(0, line.length - 1);
    }
    return line.length > this.#max ? LINE_TOO_LONG : line;
  }

  #discard(): void {
    this.#discarding = true;
    this.#partialLength = 0;
    // Let go of a large buffer: a peer that sent one huge line should not
    // keep its memory for the rest of the connection.
    if (this.#partial.length > KEPT_BUFFER_BYTES) {
      this.#partial = EMPTY;
    }
  }
}
