/**
 * The client's interactive user interface, used when standard input is a
 * terminal: a line editor with history on the bottom row, and everything the
 * client receives printed above it without disturbing what is being typed.
 *
 * - The row being edited is cleared before a line is printed and redrawn
 *   after it, with the cursor where it was.
 * - The password is not shown, not even as stars.
 * - Ctrl-C and Ctrl-D (on an empty line) end input, so the session sends
 *   `/exit` and leaves; a second Ctrl-C quits at once.
 * - Incoming chat is shown as chat (`chat_view.ts`), with colour when the
 *   terminal allows it.
 *
 * The terminal itself is a {@linkcode TerminalDevice}, so all of this runs in
 * tests against a fake one.
 *
 * @module
 */

import {
  type ClientUI,
  type InputKind,
  MAX_INPUT_LINE_BYTES,
  PASSWORD_PROMPT,
  USER_PROMPT,
} from "../client/ui.ts";
import {
  formatError,
  formatIncoming,
  formatPrompt,
  formatReply,
  sanitize,
} from "./chat_view.ts";
import { type Key, KeyDecoder } from "./key_decoder.ts";
import {
  drawLine,
  editKey,
  type EditorState,
  EMPTY_EDITOR,
  KEY_BINDINGS,
  layoutLine,
} from "./line_editor.ts";
import type {
  OutputStream,
  TerminalDevice,
  TerminalSignal,
} from "./terminal.ts";

/** Clears the row the cursor is on and returns to its first column. */
const CLEAR_ROW = "\r\x1b[2K";
/** Clears the screen and homes the cursor. */
const CLEAR_SCREEN = "\x1b[H\x1b[2J";
const NEWLINE = "\r\n";

const encoder = new TextEncoder();

/** Options for {@linkcode TerminalUI}. */
export interface TerminalUIOptions {
  /** The clock for the times shown on chat lines. */
  now?: () => Date;
}

/** A {@linkcode ClientUI} on an interactive terminal. */
export class TerminalUI implements ClientUI {
  readonly #device: TerminalDevice;
  readonly #now: () => Date;
  /** Where the editor's row is drawn: the first output that is a terminal. */
  readonly #screen: OutputStream | undefined;
  readonly #decoder = new KeyDecoder();
  readonly #quit = Promise.withResolvers<void>();
  readonly #queue: string[] = [];
  readonly #held: Key[] = [];
  readonly #unsubscribe: (() => void)[] = [];
  #editor: EditorState = EMPTY_EDITOR;
  #scroll = 0;
  #kind: InputKind | undefined;
  #reader: PromiseWithResolvers<string | null> | undefined;
  #user: string | undefined;
  #started = false;
  #closed = false;
  #ended = false;
  #interrupted = false;
  /** Whether the editor's row is on the screen now. */
  #shown = false;

  /** A user interface on `device`; the terminal is untouched until used. */
  constructor(device: TerminalDevice, options: TerminalUIOptions = {}) {
    this.#device = device;
    this.#now = options.now ?? (() => new Date());
    this.#screen = device.isTerminal("out")
      ? "out"
      : device.isTerminal("err")
      ? "err"
      : undefined;
  }

  /** Resolves when the user asks to quit at once (a second Ctrl-C). */
  get quit(): Promise<void> {
    return this.#quit.promise;
  }

  /** What has been typed on the current row so far, and the cursor. */
  get editor(): EditorState {
    return this.#editor;
  }

  readLine(kind: InputKind): Promise<string | null> {
    this.#start();
    this.#kind = kind;
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift()!);
    if (this.#ended || this.#closed) return Promise.resolve(null);
    const reader = Promise.withResolvers<string | null>();
    this.#reader = reader;
    this.#redraw();
    // Keys typed while the client was busy logging in, now there is a prompt.
    for (const key of this.#held.splice(0)) this.#handleKey(key);
    return reader.promise;
  }

  showReply(line: string): void {
    this.#print("out", formatReply(line, this.#colour("out")));
  }

  showIncoming(line: string): void {
    this.#print("out", formatIncoming(line, this.#now(), this.#colour("out")));
  }

  showAutoCommand(line: string): void {
    if (this.#screen === undefined) return;
    this.#hideRow();
    this.#device.write(
      this.#screen,
      this.#styledPrompt("command") + line + NEWLINE,
    );
    this.#redraw();
  }

  showError(line: string): void {
    this.#print("err", formatError(line, this.#colour("err")));
  }

  /** Shows a `--trace` line on standard error, above the editor's row. */
  showTrace(line: string): void {
    const terminal = this.#device.isTerminal("err");
    this.#print("err", terminal ? sanitize(line) : line);
  }

  /**
   * Puts the terminal back as it was: clears the editor's row, leaves raw
   * mode, stops listening for signals. Safe to call more than once.
   */
  close(): void {
    if (this.#closed) return;
    this.#hideRow();
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
    if (this.#started) this.#device.setRaw(false);
    this.#reader?.resolve(null);
    this.#reader = undefined;
  }

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#device.setRaw(true);
    const on = (signal: TerminalSignal, handler: () => void) =>
      this.#unsubscribe.push(this.#device.onSignal(signal, handler));
    on("SIGINT", () => this.#interrupt());
    on("SIGTERM", () => this.#interrupt());
    on("SIGHUP", () => this.#quit.resolve());
    on("SIGWINCH", () => this.#redraw());
    this.#readKeys();
  }

  async #readKeys(): Promise<void> {
    const buffer = new Uint8Array(4096);
    try {
      while (!this.#closed) {
        const count = await this.#device.read(buffer);
        if (this.#closed) return;
        if (count === null) {
          for (const key of this.#decoder.end()) this.#handleKey(key);
          this.#end();
          return;
        }
        for (const key of this.#decoder.push(buffer.subarray(0, count))) {
          this.#handleKey(key);
        }
      }
    } catch {
      // The terminal went away: that ends input.
      if (!this.#closed) this.#end();
    }
  }

  /** Whether keys go to the editor now (rather than being held). */
  #accepting(): boolean {
    return !this.#closed && !this.#ended &&
      (this.#reader !== undefined || this.#kind === "command");
  }

  #handleKey(key: Key): void {
    if (key.kind === "key" && KEY_BINDINGS[key.name] === "interrupt") {
      this.#interrupt();
      return;
    }
    if (this.#closed || this.#ended) return;
    if (!this.#accepting()) {
      this.#held.push(key);
      return;
    }
    const kind = this.#kind;
    const { state, effect } = editKey(this.#editor, key, {
      secret: kind === "password",
      history: kind === "command",
    });
    this.#editor = state;
    switch (effect?.kind) {
      case "submit":
        this.#submit(effect.line);
        break;
      case "end":
        this.#commitRow("", "^D");
        this.#end();
        break;
      case "clear-screen":
        if (this.#screen !== undefined) {
          this.#device.write(this.#screen, CLEAR_SCREEN);
          this.#shown = false;
        }
        break;
    }
    this.#redraw();
  }

  #submit(line: string): void {
    const kind = this.#kind;
    this.#commitRow(kind === "password" ? "" : line);
    if (encoder.encode(line).length > MAX_INPUT_LINE_BYTES) {
      this.showError(
        `error: line longer than ${MAX_INPUT_LINE_BYTES} bytes, not sent`,
      );
      return;
    }
    if (kind === "user") this.#user = line;
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader !== undefined) reader.resolve(line);
    else this.#queue.push(line);
  }

  /** Ctrl-C: the first ends input (the session leaves), a second quits. */
  #interrupt(): void {
    if (this.#closed) return;
    if (this.#interrupted) {
      this.#quit.resolve();
      return;
    }
    this.#interrupted = true;
    if (this.#shown) {
      this.#commitRow(
        this.#kind === "password" ? "" : this.#editor.text,
        "^C",
      );
    } else if (this.#screen !== undefined) {
      this.#device.write(this.#screen, "^C" + NEWLINE);
    }
    this.#editor = { ...this.#editor, text: "", cursor: 0 };
    this.#queue.length = 0;
    this.#held.length = 0;
    this.#end();
  }

  /** End of input: lines already entered are still read, then `null`. */
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#held.length = 0;
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.resolve(null);
    this.#redraw();
  }

  /** Leaves the row as entered (`text` in full) and starts a new one. */
  #commitRow(text: string, suffix = ""): void {
    if (this.#screen === undefined) return;
    const prompt = this.#kind === undefined
      ? ""
      : this.#styledPrompt(this.#kind);
    this.#device.write(
      this.#screen,
      CLEAR_ROW + prompt + sanitize(text) + suffix + NEWLINE,
    );
    this.#shown = false;
    this.#scroll = 0;
  }

  /** Prints a line above the editor's row, then redraws the row. */
  #print(stream: OutputStream, text: string): void {
    if (!this.#device.isTerminal(stream)) {
      this.#device.write(stream, text + "\n");
      return;
    }
    this.#hideRow();
    this.#device.write(stream, text + NEWLINE);
    this.#redraw();
  }

  #hideRow(): void {
    if (!this.#shown || this.#screen === undefined) return;
    this.#device.write(this.#screen, CLEAR_ROW);
    this.#shown = false;
  }

  /** Draws the editor's row as it is now, or clears it when not editing. */
  #redraw(): void {
    if (this.#screen === undefined || !this.#started || this.#closed) return;
    if (!this.#accepting() || this.#kind === undefined) {
      this.#hideRow();
      return;
    }
    const layout = layoutLine(
      {
        prompt: this.#promptText(this.#kind),
        text: this.#editor.text,
        cursor: this.#editor.cursor,
        secret: this.#kind === "password",
      },
      this.#device.columns(),
      this.#scroll,
    );
    this.#scroll = layout.scroll;
    const colour = this.#colour(this.#screen);
    this.#device.write(
      this.#screen,
      drawLine(layout, (prompt) => formatPrompt(prompt, colour)),
    );
    this.#shown = true;
  }

  #promptText(kind: InputKind): string {
    if (kind === "user") return USER_PROMPT + " ";
    if (kind === "password") return PASSWORD_PROMPT + " ";
    return `${this.#user ?? ""}> `;
  }

  #styledPrompt(kind: InputKind): string {
    const colour = this.#screen !== undefined && this.#colour(this.#screen);
    return formatPrompt(this.#promptText(kind), colour);
  }

  #colour(stream: OutputStream): boolean {
    return this.#device.colour && this.#device.isTerminal(stream);
  }
}
