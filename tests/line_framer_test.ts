/**
 * Unit tests for `LineFramer`: lines come out the same however the byte
 * stream is cut, `\n` and `\r\n` both end a line, and a line over the limit
 * (65,536 bytes, terminator excluded) is reported, not buffered whole.
 */

import assert from "node:assert/strict";
import {
  DEFAULT_MAX_LINE_BYTES,
  type Frame,
  LINE_TOO_LONG,
  LineFramer,
} from "../lib/net/line_framer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

const bytes = (text: string): Uint8Array => encoder.encode(text);

/** A frame as a comparable value (frames are only valid until next push). */
type Line = string | typeof LINE_TOO_LONG;

function toLine(frame: Frame): Line {
  return frame === LINE_TOO_LONG ? LINE_TOO_LONG : decoder.decode(frame);
}

/** Feeds `chunks` in order and collects every line, decoded at once. */
function frameAll(framer: LineFramer, chunks: Uint8Array[]): Line[] {
  const lines: Line[] = [];
  for (const chunk of chunks) {
    for (const frame of framer.push(chunk)) lines.push(toLine(frame));
  }
  return lines;
}

/** Splits `data` into chunks of at most `size` bytes. */
function chunked(data: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < data.length; start += size) {
    chunks.push(data.subarray(start, start + size));
  }
  return chunks;
}

Deno.test("LineFramer: the default limit is 65,536 bytes", () => {
  assert.equal(DEFAULT_MAX_LINE_BYTES, 65_536);
});

Deno.test("LineFramer: one line in one chunk", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("/list\n")]), ["/list"]);
  assert.equal(framer.pendingBytes, 0);
});

Deno.test("LineFramer: coalesced lines in one chunk come out in order", () => {
  const framer = new LineFramer();
  const lines = frameAll(framer, [
    bytes("/login jacky 12345\n/port 30232\n/list\n/exit\n"),
  ]);
  assert.deepEqual(lines, [
    "/login jacky 12345",
    "/port 30232",
    "/list",
    "/exit",
  ]);
});

Deno.test("LineFramer: a chunk without a newline completes nothing", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("/to bob hel")]), []);
  assert.equal(framer.pendingBytes, 11);
  assert.deepEqual(frameAll(framer, [bytes("lo\n")]), ["/to bob hello"]);
  assert.equal(framer.pendingBytes, 0);
});

Deno.test("LineFramer: an empty chunk changes nothing", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [new Uint8Array(0)]), []);
  assert.deepEqual(
    frameAll(framer, [bytes("ab"), new Uint8Array(0), bytes("c\n")]),
    ["abc"],
  );
});

Deno.test("LineFramer: empty lines are lines", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("\n\r\na\n\n")]), [
    "",
    "",
    "a",
    "",
  ]);
});

Deno.test("LineFramer: a line completed by a chunk that also starts the next line", () => {
  // The smallest case of a line whose start was held from an earlier chunk,
  // finished by a chunk that leaves the start of another line pending.
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("ab")]), []);
  assert.deepEqual(frameAll(framer, [bytes("c\nxy")]), ["abc"]);
  assert.deepEqual(frameAll(framer, [bytes("z\n")]), ["xyz"]);
});

Deno.test("LineFramer: every split point gives the same lines as unsplit", () => {
  // Mixed terminators, an empty line, a bare CR and multi-byte characters.
  const input = bytes(
    "/login jacky 12345\r\n/to bob héllo 🙂\n\n/toall a\rb\r\n/exit\n",
  );
  const expected = [
    "/login jacky 12345",
    "/to bob héllo 🙂",
    "",
    "/toall a\rb",
    "/exit",
  ];
  assert.deepEqual(frameAll(new LineFramer(), [input]), expected);
  for (let at = 0; at <= input.length; at++) {
    const framer = new LineFramer();
    const lines = frameAll(framer, [input.subarray(0, at), input.subarray(at)]);
    assert.deepEqual(lines, expected, `split at byte ${at}`);
    assert.equal(framer.pendingBytes, 0, `split at byte ${at}`);
  }
});

Deno.test("LineFramer: every pair of split points gives the same lines", () => {
  const input = bytes("/to bob ü\r\n/list\n");
  const expected = ["/to bob ü", "/list"];
  for (let first = 0; first <= input.length; first++) {
    for (let second = first; second <= input.length; second++) {
      const lines = frameAll(new LineFramer(), [
        input.subarray(0, first),
        input.subarray(first, second),
        input.subarray(second),
      ]);
      assert.deepEqual(lines, expected, `split at ${first} and ${second}`);
    }
  }
});

Deno.test("LineFramer: one byte at a time", () => {
  const input = bytes(
    "/from michael Hi, Jacky!\n302 Message receipt successful\r\n",
  );
  assert.deepEqual(frameAll(new LineFramer(), chunked(input, 1)), [
    "/from michael Hi, Jacky!",
    "302 Message receipt successful",
  ]);
});

Deno.test("LineFramer: a multi-byte character split across chunks is intact", () => {
  // "€" is E2 82 AC; "🙂" is F0 9F 99 82.
  const input = bytes("/toall €🙂\n");
  for (let at = 1; at < input.length; at++) {
    const framer = new LineFramer();
    const lines = frameAll(framer, [input.subarray(0, at), input.subarray(at)]);
    assert.deepEqual(lines, ["/toall €🙂"], `split at byte ${at}`);
  }
});

Deno.test("LineFramer: CRLF ends a line and the CR is dropped", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("/list\r\n")]), ["/list"]);
  assert.deepEqual(frameAll(framer, [bytes("/list\r"), bytes("\n")]), [
    "/list",
  ]);
});

Deno.test("LineFramer: with keepCarriageReturn the CR of a CRLF stays in the line", () => {
  const framer = new LineFramer({ keepCarriageReturn: true });
  assert.deepEqual(
    frameAll(framer, [bytes("101 Authentication successful\r\n/list\n\r")]),
    ["101 Authentication successful\r", "/list"],
  );
  assert.equal(toLine(framer.flush()!), "\r");
});

Deno.test("LineFramer: a bare CR stays inside the line", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("a\rb\n\rc\n")]), [
    "a\rb",
    "\rc",
  ]);
  // Only the one CR right before the LF is part of the terminator.
  assert.deepEqual(frameAll(framer, [bytes("d\r\r\n")]), ["d\r"]);
});

Deno.test("LineFramer: a line of exactly the limit is accepted", () => {
  const max = 16;
  const line = "x".repeat(max);
  assert.deepEqual(
    frameAll(new LineFramer({ maxLineBytes: max }), [
      bytes(line + "\n"),
    ]),
    [line],
  );
  assert.deepEqual(
    frameAll(new LineFramer({ maxLineBytes: max }), [
      bytes(line + "\r\n"),
    ]),
    [line],
    "the CR of CRLF does not count against the limit",
  );
  for (let at = 0; at <= max + 2; at++) {
    const input = bytes(line + "\r\n");
    const lines = frameAll(new LineFramer({ maxLineBytes: max }), [
      input.subarray(0, at),
      input.subarray(at),
    ]);
    assert.deepEqual(lines, [line], `split at byte ${at}`);
  }
});

Deno.test("LineFramer: a line one byte over the limit is too long", () => {
  const max = 16;
  const line = "x".repeat(max + 1);
  for (const terminator of ["\n", "\r\n"]) {
    const input = bytes(line + terminator);
    for (let at = 0; at <= input.length; at++) {
      const lines = frameAll(new LineFramer({ maxLineBytes: max }), [
        input.subarray(0, at),
        input.subarray(at),
      ]);
      assert.deepEqual(
        lines,
        [LINE_TOO_LONG],
        `terminator ${JSON.stringify(terminator)}, split at byte ${at}`,
      );
    }
  }
});

Deno.test("LineFramer: the line after a too-long line is still framed", () => {
  const max = 16;
  const input = bytes(
    "x".repeat(40) + "\n/list\r\n" + "y".repeat(17) + "\n/exit\n",
  );
  const expected = [LINE_TOO_LONG, "/list", LINE_TOO_LONG, "/exit"];
  assert.deepEqual(
    frameAll(new LineFramer({ maxLineBytes: max }), [input]),
    expected,
  );
  for (const size of [1, 2, 3, 5, 7, 16, 17, 18]) {
    assert.deepEqual(
      frameAll(new LineFramer({ maxLineBytes: max }), chunked(input, size)),
      expected,
      `chunks of ${size} bytes`,
    );
  }
});

Deno.test("LineFramer: 65,536 bytes accepted, 65,537 too long (default limit)", () => {
  const framer = new LineFramer();
  const exact = "a".repeat(65_536);
  const over = "b".repeat(65_537);
  const input = bytes(exact + "\n" + over + "\n" + exact + "\r\n/list\n");
  const lines = frameAll(framer, chunked(input, 4096));
  assert.equal(lines.length, 4);
  assert.equal(lines[0], exact);
  assert.equal(lines[1], LINE_TOO_LONG);
  assert.equal(lines[2], exact);
  assert.equal(lines[3], "/list");
});

Deno.test("LineFramer: a huge line is not buffered whole", () => {
  const framer = new LineFramer();
  const chunk = new Uint8Array(8192).fill(0x61);
  let most = 0;
  // 10 MiB without a newline.
  for (let i = 0; i < 1280; i++) {
    assert.deepEqual(framer.push(chunk), []);
    most = Math.max(most, framer.pendingBytes);
  }
  assert.ok(
    most <= DEFAULT_MAX_LINE_BYTES + 1,
    `held ${most} bytes of an unfinished line`,
  );
  assert.deepEqual(frameAll(framer, [bytes("aaa\n/list\n")]), [
    LINE_TOO_LONG,
    "/list",
  ]);
  assert.equal(framer.pendingBytes, 0);
});

Deno.test("LineFramer: a huge line in a single chunk is too long", () => {
  const framer = new LineFramer();
  const input = bytes("z".repeat(200_000) + "\n/exit\n");
  assert.deepEqual(frameAll(framer, [input]), [LINE_TOO_LONG, "/exit"]);
});

Deno.test("LineFramer: flush returns an unterminated last line", () => {
  const framer = new LineFramer();
  assert.deepEqual(frameAll(framer, [bytes("/list\n/ex"), bytes("it")]), [
    "/list",
  ]);
  const last = framer.flush();
  assert.ok(last !== undefined);
  assert.equal(toLine(last), "/exit");
  assert.equal(framer.pendingBytes, 0);
  assert.equal(framer.flush(), undefined, "nothing left after a flush");
});

Deno.test("LineFramer: flush with nothing pending returns undefined", () => {
  const framer = new LineFramer();
  assert.equal(framer.flush(), undefined);
  frameAll(framer, [bytes("/list\n")]);
  assert.equal(framer.flush(), undefined);
});

Deno.test("LineFramer: flush of an over-long unterminated line is too long", () => {
  const framer = new LineFramer({ maxLineBytes: 8 });
  assert.deepEqual(frameAll(framer, [bytes("x".repeat(20))]), []);
  assert.equal(framer.flush(), LINE_TOO_LONG);
  assert.equal(framer.flush(), undefined);

  const atLimitPlusOne = new LineFramer({ maxLineBytes: 8 });
  frameAll(atLimitPlusOne, [bytes("x".repeat(9))]);
  assert.equal(atLimitPlusOne.flush(), LINE_TOO_LONG);
});

Deno.test("LineFramer: flush of a line at the limit returns it", () => {
  const framer = new LineFramer({ maxLineBytes: 8 });
  frameAll(framer, [bytes("x".repeat(8))]);
  const last = framer.flush();
  assert.ok(last !== undefined);
  assert.equal(toLine(last), "x".repeat(8));
});
