/**
 * Turns the bytes a terminal in raw mode sends into keys: typed text, and
 * named keys for control characters and escape sequences (arrows, Home, End,
 * Delete…). UTF-8 characters and escape sequences split across reads are
 * put back together.
 *
 * @module
 */

/** A key that is not plain text. */
export type KeyName =
  | "enter"
  | "backspace"
  | "delete"
  | "tab"
  | "left"
  | "right"
  | "up"
  | "down"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "word-backspace"
  | "escape"
  | `ctrl-${Letter}`;

type Letter =
  | "a"
  | "b"
  | "c"
  | "d"
  | "e"
  | "f"
  | "g"
  | "h"
  | "i"
  | "j"
  | "k"
  | "l"
  | "m"
  | "n"
  | "o"
  | "p"
  | "q"
  | "r"
  | "s"
  | "t"
  | "u"
  | "v"
  | "w"
  | "x"
  | "y"
  | "z";

/** One key press: text to insert, or a named key. */
export type Key =
  | { kind: "text"; text: string }
  | { kind: "key"; name: KeyName };

const ESC = "\x1b";

// Final characters of `ESC [ … X` and `ESC O X` sequences.
const FINAL_KEYS: Readonly<Record<string, KeyName>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
};

// `ESC [ n ~` sequences.
const TILDE_KEYS: Readonly<Record<string, KeyName>> = {
  "1": "home",
  "7": "home",
  "4": "end",
  "8": "end",
  "3": "delete",
};

// Control characters with a key of their own; other letters are `ctrl-x`.
const CONTROL_KEYS: Readonly<Record<number, KeyName>> = {
  0x08: "backspace",
  0x09: "tab",
  0x0a: "enter",
  0x0d: "enter",
  0x7f: "backspace",
};

// Everything but C0 controls, DEL and C1 controls.
const TEXT_RUN = /^\P{Cc}+/u;

/**
 * A stateful decoder: feed it each chunk read from the terminal with
 * {@linkcode KeyDecoder.push}; it keeps incomplete sequences for the next
 * chunk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyDecoder } from "./key_decoder.ts";
 *
 * const keys = new KeyDecoder().push(new TextEncoder().encode("hi\x1b[D"));
 * assert.deepEqual(keys, [
 *   { kind: "text", text: "hi" },
 *   { kind: "key", name: "left" },
 * ]);
 * ```
 */
export class KeyDecoder {
  readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  #pending = "";
  #afterCR = false;

  /** The keys completed by `bytes`. */
  push(bytes: Uint8Array): Key[] {
    const text = this.#pending + this.#decoder.decode(bytes, { stream: true });
    this.#pending = "";
    return this.#parse(text);
  }

  /** The keys left over at the end of input (a lone Escape, say). */
  end(): Key[] {
    const text = this.#pending + this.#decoder.decode();
    this.#pending = "";
    const keys = this.#parse(text);
    if (this.#pending !== "") keys.push({ kind: "key", name: "escape" });
    this.#pending = "";
    return keys;
  }

  #parse(text: string): Key[] {
    const keys: Key[] = [];
    let at = 0;
    while (at < text.length) {
      const code = text.charCodeAt(at);
      const afterCR = this.#afterCR;
      this.#afterCR = code === 0x0d;
      if (code === 0x1b) {
        const used = this.#escape(text, at, keys);
        if (used === 0) {
          this.#pending = text.slice(at);
          break;
        }
        at += used;
        continue;
      }
      const run = TEXT_RUN.exec(text.slice(at));
      if (run !== null) {
        keys.push({ kind: "text", text: run[0] });
        at += run[0].length;
        continue;
      }
      at += 1;
      // A CR LF pair (from a paste) is one Enter.
      if (code === 0x0a && afterCR) continue;
      const named = CONTROL_KEYS[code];
      if (named !== undefined) {
        keys.push({ kind: "key", name: named });
      } else if (code >= 0x01 && code <= 0x1a) {
        const letter = String.fromCharCode(code + 0x60);
        keys.push({ kind: "key", name: `ctrl-${letter}` as KeyName });
      }
      // Other control characters (NUL, C1 controls…) are dropped.
    }
    return keys;
  }

  /**
   * Decodes the escape sequence at `text[at]`, pushing its key if it has
   * one; returns how many characters it used, or 0 if it is incomplete.
   */
  #escape(text: string, at: number, keys: Key[]): number {
    const next = text[at + 1];
    if (next === undefined) return 0;
    if (next === "[") {
      // CSI: parameters, intermediates, then a final character @ to ~.
      let end = at + 2;
      while (
        end < text.length && /[0-9;:<=>?!"#$%&'()*+,\-./ ]/.test(text[end])
      ) {
        end += 1;
      }
      if (end >= text.length) return 0;
      const final = text[end];
      const params = text.slice(at + 2, end);
      const key = csiKey(params, final);
      if (key !== undefined) keys.push({ kind: "key", name: key });
      return end + 1 - at;
    }
    if (next === "O") {
      const final = text[at + 2];
      if (final === undefined) return 0;
      const key = FINAL_KEYS[final];
      if (key !== undefined) keys.push({ kind: "key", name: key });
      return 3;
    }
    // Alt with a key: Alt-b, Alt-f and Alt-Backspace move and delete by
    // word; other Alt combinations insert nothing.
    if (next === "b") keys.push({ kind: "key", name: "word-left" });
    else if (next === "f") keys.push({ kind: "key", name: "word-right" });
    else if (next === "\x7f" || next === "\x08") {
      keys.push({ kind: "key", name: "word-backspace" });
    } else if (next === ESC) {
      keys.push({ kind: "key", name: "escape" });
      return 1;
    }
    return 2;
  }
}

function csiKey(params: string, final: string): KeyName | undefined {
  if (final === "~") {
    return TILDE_KEYS[params.split(";")[0]];
  }
  const key = FINAL_KEYS[final];
  if (key === undefined) return undefined;
  // `1;5D` is Ctrl-Left, `1;3D` Alt-Left: both move by word.
  const modifier = Number(params.split(";")[1] ?? "1");
  if (modifier > 1 && (key === "left" || key === "right")) {
    return key === "left" ? "word-left" : "word-right";
  }
  return key;
}
