/**
 * A fake terminal for testing the client's terminal interface in-process:
 * a tiny screen that understands the few control sequences the interface
 * writes (CR, LF, clear row, cursor forward, clear screen, colours), and a
 * {@linkcode TerminalDevice} whose keyboard the test types on.
 *
 * @module
 */

import type {
  OutputStream,
  TerminalDevice,
  TerminalSignal,
} from "../../lib/terminal/terminal.ts";
import { graphemes, graphemeWidth } from "../../lib/terminal/text_width.ts";

/** A screen with unlimited rows (nothing scrolls off) and a fixed width. */
export class VirtualScreen {
  /** Each row's cells; a wide character's second cell is `""`. */
  readonly rows: string[][] = [[]];
  /** Cursor row. */
  row = 0;
  /** Cursor column. */
  column = 0;
  /** Width in columns. */
  columns: number;

  constructor(columns = 80) {
    this.columns = columns;
  }

  /** Interprets `text` as a terminal would. */
  write(text: string): void {
    // deno-lint-ignore no-control-regex -- escape sequences are the point
    const pattern = /\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]+/gy;
    for (const match of text.matchAll(pattern)) {
      const [all, params, final] = match;
      if (all === "\r") this.column = 0;
      else if (all === "\n") this.#lineFeed();
      else if (final !== undefined) this.#control(params, final);
      else for (const cluster of graphemes(all)) this.#put(cluster);
    }
  }

  /** The text of each row, trailing blanks removed. */
  lines(): string[] {
    return this.rows.map((cells) =>
      cells.map((cell) => cell === undefined ? " " : cell).join("").trimEnd()
    );
  }

  /** The rows that have text, as one string (for failure messages). */
  text(): string {
    return this.lines().join("\n").trimEnd();
  }

  /** The text of the cursor's row. */
  cursorLine(): string {
    return this.lines()[this.row];
  }

  #lineFeed(): void {
    this.row += 1;
    while (this.rows.length <= this.row) this.rows.push([]);
  }

  #control(params: string, final: string): void {
    const n = Number(params.split(";")[0] || "0");
    if (final === "K" && n === 2) this.rows[this.row] = [];
    else if (final === "K") this.rows[this.row].length = this.column;
    else if (final === "C") {
      this.column = Math.min(this.columns - 1, this.column + Math.max(1, n));
    } else if (final === "H") {
      this.row = 0;
      this.column = 0;
    } else if (final === "J" && n === 2) {
      this.rows.length = 0;
      this.rows.push([]);
    }
    // `m` (colours) and anything else change nothing visible here.
  }

  #put(cluster: string): void {
    const width = graphemeWidth(cluster);
    if (this.column + width > this.columns) {
      this.#lineFeed();
      this.column = 0;
    }
    const cells = this.rows[this.row];
    while (cells.length < this.column) cells.push(" ");
    cells[this.column] = cluster;
    if (width === 2) cells[this.column + 1] = "";
    this.column += width;
  }
}

/** A {@linkcode TerminalDevice} driven by the test. */
export class FakeTerminal implements TerminalDevice {
  /** What the user sees: standard output and, when a terminal, stderr. */
  readonly screen: VirtualScreen;
  /** Everything written, by stream, escape sequences included. */
  readonly written: Record<OutputStream, string> = { out: "", err: "" };
  /** Each raw-mode change, in order. */
  readonly rawChanges: boolean[] = [];
  readonly colour: boolean;
  readonly #terminal: Record<OutputStream, boolean>;
  readonly #chunks: (Uint8Array | null)[] = [];
  #reader: ((chunk: Uint8Array | null) => void) | undefined;
  readonly #taken: (() => void)[] = [];
  readonly #signals = new Map<TerminalSignal, Set<() => void>>();

  constructor(options: {
    columns?: number;
    colour?: boolean;
    outIsTerminal?: boolean;
    errIsTerminal?: boolean;
  } = {}) {
    this.screen = new VirtualScreen(options.columns ?? 80);
    this.colour = options.colour ?? false;
    this.#terminal = {
      out: options.outIsTerminal ?? true,
      err: options.errIsTerminal ?? true,
    };
  }

  /** Whether raw mode is on now. */
  get raw(): boolean {
    return this.rawChanges.at(-1) ?? false;
  }

  /** How many signal handlers are installed. */
  get signalHandlers(): number {
    let count = 0;
    for (const handlers of this.#signals.values()) count += handlers.size;
    return count;
  }

  /** The user types `input` (a string is sent as UTF-8). */
  type(input: string | Uint8Array): void {
    this.#deliver(
      typeof input === "string" ? new TextEncoder().encode(input) : input,
    );
  }

  /** The keyboard ends (the terminal hung up). */
  endInput(): void {
    this.#deliver(null);
  }

  /** Sends `signal` to the handlers installed for it. */
  signal(signal: TerminalSignal): void {
    for (const handler of [...this.#signals.get(signal) ?? []]) handler();
  }

  read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks.shift();
    if (chunk !== undefined) return Promise.resolve(this.#copy(chunk, buffer));
    return new Promise((resolve) => {
      this.#reader = (next) => resolve(this.#copy(next, buffer));
      for (const taken of this.#taken.splice(0)) taken();
    });
  }

  /**
   * Resolves once everything typed so far has been read and its keys
   * handled: the reader has come back for more and none is left.
   */
  inputTaken(): Promise<void> {
    if (this.#chunks.length === 0 && this.#reader !== undefined) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#taken.push(resolve));
  }

  setRaw(raw: boolean): void {
    this.rawChanges.push(raw);
  }

  write(stream: OutputStream, text: string): void {
    this.written[stream] += text;
    if (this.#terminal[stream]) this.screen.write(text);
  }

  isTerminal(stream: OutputStream): boolean {
    return this.#terminal[stream];
  }

  columns(): number {
    return this.screen.columns;
  }

  onSignal(signal: TerminalSignal, handler: () => void): () => void {
    const handlers = this.#signals.get(signal) ?? new Set();
    this.#signals.set(signal, handlers);
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  #deliver(chunk: Uint8Array | null): void {
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader !== undefined) reader(chunk);
    else this.#chunks.push(chunk);
  }

  #copy(chunk: Uint8Array | null, buffer: Uint8Array): number | null {
    if (chunk === null) return null;
    if (chunk.length > buffer.length) {
      this.#chunks.unshift(chunk.subarray(buffer.length));
      chunk = chunk.subarray(0, buffer.length);
    }
    buffer.set(chunk);
    return chunk.length;
  }
}
