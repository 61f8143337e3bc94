/**
 * Unit tests for decoding terminal input into keys: text, control keys,
 * escape sequences, and both split across reads.
 */

import assert from "node:assert/strict";
import {
  type Key,
  KeyDecoder,
  type KeyName,
} from "../lib/terminal/key_decoder.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const text = (value: string): Key => ({ kind: "text", text: value });
const key = (name: KeyName): Key => ({ kind: "key", name });

/** Decodes `chunks` fed one after another, then ends the input. */
function decode(...chunks: (string | Uint8Array)[]): Key[] {
  const decoder = new KeyDecoder();
  const keys: Key[] = [];
  for (const chunk of chunks) {
    keys.push(
      ...decoder.push(typeof chunk === "string" ? encode(chunk) : chunk),
    );
  }
  keys.push(...decoder.end());
  return keys;
}

Deno.test("KeyDecoder: printable text comes as one run", () => {
  assert.deepEqual(decode("hello world"), [text("hello world")]);
  assert.deepEqual(decode("héllo 世界 👩‍👩‍👧"), [text("héllo 世界 👩‍👩‍👧")]);
});

Deno.test("KeyDecoder: Enter, Backspace, Tab and Ctrl keys", () => {
  assert.deepEqual(decode("ab\r"), [text("ab"), key("enter")]);
  assert.deepEqual(decode("\n"), [key("enter")]);
  assert.deepEqual(decode("\r\n"), [key("enter")], "CR LF is one Enter");
  assert.deepEqual(decode("\r", "\n"), [key("enter")], "even when split");
  assert.deepEqual(decode("\r\r"), [key("enter"), key("enter")]);
  assert.deepEqual(decode("\x7f\x08\t"), [
    key("backspace"),
    key("backspace"),
    key("tab"),
  ]);
  assert.deepEqual(decode("\x03\x04\x01\x05\x15\x0b\x17\x0c"), [
    key("ctrl-c"),
    key("ctrl-d"),
    key("ctrl-a"),
    key("ctrl-e"),
    key("ctrl-u"),
    key("ctrl-k"),
    key("ctrl-w"),
    key("ctrl-l"),
  ]);
  assert.deepEqual(
    decode("a\x00\x1cb"),
    [text("a"), text("b")],
    "NUL, FS dropped",
  );
});

Deno.test("KeyDecoder: arrows, Home, End, Delete in their common encodings", () => {
  const cases: [string, KeyName][] = [
    ["\x1b[A", "up"],
    ["\x1b[B", "down"],
    ["\x1b[C", "right"],
    ["\x1b[D", "left"],
    ["\x1bOA", "up"],
    ["\x1bOD", "left"],
    ["\x1b[H", "home"],
    ["\x1b[F", "end"],
    ["\x1bOH", "home"],
    ["\x1bOF", "end"],
    ["\x1b[1~", "home"],
    ["\x1b[7~", "home"],
    ["\x1b[4~", "end"],
    ["\x1b[8~", "end"],
    ["\x1b[3~", "delete"],
    ["\x1b[1;5D", "word-left"],
    ["\x1b[1;5C", "word-right"],
    ["\x1b[1;3D", "word-left"],
    ["\x1bb", "word-left"],
    ["\x1bf", "word-right"],
    ["\x1b\x7f", "word-backspace"],
  ];
  for (const [sequence, name] of cases) {
    assert.deepEqual(decode(sequence), [key(name)], JSON.stringify(sequence));
  }
});

Deno.test("KeyDecoder: unknown sequences and Alt combinations insert nothing", () => {
  assert.deepEqual(decode("a\x1b[5~b"), [text("a"), text("b")], "Page Up");
  assert.deepEqual(decode("\x1b[200~x\x1b[201~"), [text("x")], "paste marks");
  assert.deepEqual(decode("\x1bx"), [], "Alt-x");
  assert.deepEqual(decode("\x1b[1;2P"), [], "Shift-F1");
});

Deno.test("KeyDecoder: sequences split across reads are put together", () => {
  assert.deepEqual(decode("ab\x1b", "[D"), [text("ab"), key("left")]);
  assert.deepEqual(decode("\x1b[", "3", "~"), [key("delete")]);
  assert.deepEqual(decode("\x1bO", "H"), [key("home")]);
  assert.deepEqual(decode("\x1b"), [key("escape")], "a lone Escape at the end");
});

Deno.test("KeyDecoder: UTF-8 characters split across reads are put together", () => {
  const bytes = encode("é世👍");
  const keys = decode(...Array.from(bytes, (byte) => new Uint8Array([byte])));
  assert.equal(
    keys.map((k) => k.kind === "text" ? k.text : "?").join(""),
    "é世👍",
  );
  assert.ok(keys.every((k) => k.kind === "text"));
});

Deno.test("KeyDecoder: invalid UTF-8 becomes U+FFFD", () => {
  assert.deepEqual(decode(new Uint8Array([0x61, 0xff, 0x62])), [
    text("a\uFFFDb"),
  ]);
});
