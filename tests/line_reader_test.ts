/**
 * Unit tests for `LineReader` over a scripted byte source: lines are decoded
 * only when whole, bad UTF-8 and over-long lines are marked, and the end of
 * the source is handled as configured.
 */

import assert from "node:assert/strict";
import {
  type ByteSource,
  LINE_NOT_UTF8,
  LINE_TOO_LONG,
  LineReader,
  type LineResult,
} from "../lib/net/line_reader.ts";

const encoder = new TextEncoder();

/** One scripted step: bytes to hand out, or an error to throw. */
type Step = Uint8Array | string | Error;

/**
 * A byte source that hands out scripted chunks, one per `read` (a chunk
 * larger than the reader's buffer is handed out over several reads), then
 * reports the end. It counts reads, and reads after the end.
 */
class ScriptedSource implements ByteSource {
  readonly #steps: Step[];
  #rest: Uint8Array | undefined;
  reads = 0;
  readsAfterEnd = 0;

  constructor(steps: Step[]) {
    this.#steps = [...steps];
  }

  read(buffer: Uint8Array): Promise<number | null> {
    this.reads++;
    let chunk = this.#rest;
    this.#rest = undefined;
    if (chunk === undefined) {
      const step = this.#steps.shift();
      if (step === undefined) {
        this.readsAfterEnd++;
        return Promise.resolve(null);
      }
      if (step instanceof Error) return Promise.reject(step);
      chunk = typeof step === "string" ? encoder.encode(step) : step;
    }
    const count = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, count));
    if (count < chunk.length) this.#rest = chunk.subarray(count);
    return Promise.resolve(count);
  }
}

/** Reads every line until the reader reports the end. */
async function readAll(reader: LineReader): Promise<LineResult[]> {
  const lines: LineResult[] = [];
  for (let line = await reader.readLine(); line !== null;) {
    lines.push(line);
    line = await reader.readLine();
  }
  return lines;
}

Deno.test("LineReader: reads lines from one chunk, then null", async () => {
  const source = new ScriptedSource(["/list\n/exit\n"]);
  const reader = new LineReader(source);
  assert.equal(await reader.readLine(), "/list");
  assert.equal(await reader.readLine(), "/exit");
  assert.equal(await reader.readLine(), null);
});

Deno.test("LineReader: stays at null after the end without reading again", async () => {
  const source = new ScriptedSource(["/list\n"]);
  const reader = new LineReader(source);
  assert.deepEqual(await readAll(reader), ["/list"]);
  assert.equal(await reader.readLine(), null);
  assert.equal(await reader.readLine(), null);
  assert.equal(source.readsAfterEnd, 1);
});

Deno.test("LineReader: an empty source gives null at once", async () => {
  const reader = new LineReader(new ScriptedSource([]));
  assert.equal(await reader.readLine(), null);
});

Deno.test("LineReader: reads nothing before the first readLine", () => {
  const source = new ScriptedSource(["/list\n"]);
  new LineReader(source);
  assert.equal(source.reads, 0);
});

Deno.test("LineReader: lines split across reads", async () => {
  const reader = new LineReader(
    new ScriptedSource([
      "/to bob Hel",
      "lo! Nice",
      " to meet you!\n",
      "/ex",
      "it\n",
    ]),
  );
  assert.deepEqual(await readAll(reader), [
    "/to bob Hello! Nice to meet you!",
    "/exit",
  ]);
});

Deno.test("LineReader: a chunk that ends one line and starts the next", async () => {
  const reader = new LineReader(
    new ScriptedSource(["/to bob hel", "lo\n/li", "st\n"]),
  );
  assert.deepEqual(await readAll(reader), ["/to bob hello", "/list"]);
});

Deno.test("LineReader: the same lines for every split of the input", async () => {
  const input = encoder.encode("/login jacky 12345\r\n/to bob ü 🙂\n\n/exit\n");
  const expected = ["/login jacky 12345", "/to bob ü 🙂", "", "/exit"];
  for (let at = 0; at <= input.length; at++) {
    const reader = new LineReader(
      new ScriptedSource([input.subarray(0, at), input.subarray(at)]),
    );
    assert.deepEqual(await readAll(reader), expected, `split at byte ${at}`);
  }
});

Deno.test("LineReader: a small read buffer still gives whole lines", async () => {
  const reader = new LineReader(
    new ScriptedSource(["/from michael Hi, Jacky!\n/broadcastfrom bob OK.\n"]),
    { bufferSize: 3 },
  );
  assert.deepEqual(await readAll(reader), [
    "/from michael Hi, Jacky!",
    "/broadcastfrom bob OK.",
  ]);
});

Deno.test("LineReader: a multi-byte character split across reads is intact", async () => {
  // "é" is C3 A9; "🙂" is F0 9F 99 82.
  const input = encoder.encode("/toall é🙂\n");
  for (let at = 1; at < input.length; at++) {
    const reader = new LineReader(
      new ScriptedSource([input.subarray(0, at), input.subarray(at)]),
    );
    assert.deepEqual(await readAll(reader), ["/toall é🙂"], `split at ${at}`);
  }
  const byteByByte = [...input].map((byte) => Uint8Array.of(byte));
  assert.deepEqual(
    await readAll(new LineReader(new ScriptedSource(byteByByte))),
    [
      "/toall é🙂",
    ],
  );
});

Deno.test("LineReader: CRLF and LF both end a line", async () => {
  const reader = new LineReader(new ScriptedSource(["/list\r\n/exit\n"]));
  assert.deepEqual(await readAll(reader), ["/list", "/exit"]);
});

Deno.test("LineReader: invalid UTF-8 is LINE_NOT_UTF8 and the next line is read", async () => {
  const bad = Uint8Array.of(0x2f, 0x74, 0x6f, 0x20, 0xff, 0xfe, 0x0a); // "/to " FF FE
  const reader = new LineReader(new ScriptedSource([bad, "/list\n"]));
  assert.deepEqual(await readAll(reader), [LINE_NOT_UTF8, "/list"]);
});

Deno.test("LineReader: a truncated multi-byte sequence is LINE_NOT_UTF8", async () => {
  // C3 alone before the newline: the start of "é" without its second byte.
  const reader = new LineReader(
    new ScriptedSource([Uint8Array.of(0x61, 0xc3, 0x0a), "b\n"]),
  );
  assert.deepEqual(await readAll(reader), [LINE_NOT_UTF8, "b"]);
});

Deno.test("LineReader: strictUtf8 false turns bad bytes into U+FFFD", async () => {
  const reader = new LineReader(
    new ScriptedSource([Uint8Array.of(0x61, 0xff, 0x62, 0x0a)]),
    { strictUtf8: false },
  );
  assert.deepEqual(await readAll(reader), ["a\uFFFDb"]);
});

Deno.test("LineReader: a line over the limit is LINE_TOO_LONG and the next is read", async () => {
  const reader = new LineReader(
    new ScriptedSource(["x".repeat(10), "x".repeat(10), "\n/list\n"]),
    { maxLineBytes: 16 },
  );
  assert.deepEqual(await readAll(reader), [LINE_TOO_LONG, "/list"]);
});

Deno.test("LineReader: default limit is 65,536 bytes, terminator excluded", async () => {
  const exact = "a".repeat(65_536);
  const reader = new LineReader(
    new ScriptedSource([
      exact + "\n",
      "b".repeat(65_537) + "\n",
      exact + "\r\n",
      "/list\n",
    ]),
  );
  const lines = await readAll(reader);
  assert.equal(lines.length, 4);
  assert.equal(lines[0], exact);
  assert.equal(lines[1], LINE_TOO_LONG);
  assert.equal(lines[2], exact);
  assert.equal(lines[3], "/list");
});

Deno.test("LineReader: an unterminated last line is dropped by default", async () => {
  const reader = new LineReader(new ScriptedSource(["/list\n/exi"]));
  assert.deepEqual(await readAll(reader), ["/list"]);
});

Deno.test("LineReader: acceptUnterminated keeps an unterminated last line", async () => {
  const reader = new LineReader(new ScriptedSource(["/list\n/ex", "it"]), {
    acceptUnterminated: true,
  });
  assert.deepEqual(await readAll(reader), ["/list", "/exit"]);
  assert.equal(await reader.readLine(), null);
});

Deno.test("LineReader: acceptUnterminated with a terminated last line adds nothing", async () => {
  const reader = new LineReader(new ScriptedSource(["/list\n"]), {
    acceptUnterminated: true,
  });
  assert.deepEqual(await readAll(reader), ["/list"]);
});

Deno.test("LineReader: acceptUnterminated marks a bad unterminated last line", async () => {
  const notUtf8 = new LineReader(
    new ScriptedSource([Uint8Array.of(0x61, 0xff)]),
    { acceptUnterminated: true },
  );
  assert.deepEqual(await readAll(notUtf8), [LINE_NOT_UTF8]);
  const tooLong = new LineReader(new ScriptedSource(["y".repeat(40)]), {
    acceptUnterminated: true,
    maxLineBytes: 16,
  });
  assert.deepEqual(await readAll(tooLong), [LINE_TOO_LONG]);
});

Deno.test("LineReader: an error from the source is passed on", async () => {
  const failure = new Error("connection reset");
  const reader = new LineReader(new ScriptedSource(["/list\n", failure]));
  assert.equal(await reader.readLine(), "/list");
  await assert.rejects(reader.readLine(), (error) => error === failure);
});

Deno.test("LineReader: a leading BOM is kept, not swallowed", async () => {
  const reader = new LineReader(new ScriptedSource(["\uFEFF/list\n"]));
  assert.deepEqual(await readAll(reader), ["\uFEFF/list"]);
});
