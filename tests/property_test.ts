/**
 * Property-based tests (fast-check) of the wire format:
 *
 * - Framing: any byte stream, cut at any points, gives `LineFramer` the same
 *   lines as the whole stream in one piece, and the lines of the reference
 *   model (`\n` ends a line, one `\r` before it is dropped, a line over the
 *   limit is one too-long line), including CRLF, lines around a small limit
 *   and bytes that are not UTF-8. `LineReader` on top decodes only whole
 *   lines: valid UTF-8 comes out intact however it is cut, anything else is
 *   marked (strict) or replaced (lenient).
 * - Parsing: `parseCommand` never throws and classifies every string exactly
 *   as the reference model of the protocol decisions does.
 * - Round trips: every `format*` function and its parser, for names without
 *   spaces and any non-empty content without `\n`.
 *
 * About a trailing `\r`: the framer takes `\r\n` as a terminator, so over
 * the wire a line that ends with `\r` and is sent with a bare `\n` loses that
 * one `\r` (it reads as the `\r\n` terminator). The wire round trip checks
 * exactly that: lines are unchanged when they do not end with `\r`, or when
 * they are sent with `\r\n`; a line ending with `\r` sent with `\n` comes out
 * without its last `\r`. The pure format/parse round trips cover every
 * content, trailing `\r` included.
 *
 * Set `FC_SEED` (and `FC_PATH`) to replay a failure fast-check reported.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_MAX_LINE_BYTES,
  type Frame,
  LINE_TOO_LONG,
  LineFramer,
} from "../lib/net/line_framer.ts";
import {
  type ByteSource,
  LINE_NOT_UTF8,
  LineReader,
  type LineResult,
} from "../lib/net/line_reader.ts";
import {
  type Delivery,
  formatDelivery,
  formatList,
  formatLogin,
  formatPort,
  formatTo,
  formatToAll,
  parseCommand,
  parseDelivery,
  parseList,
} from "../lib/protocol.ts";
import {
  classifyModel,
  frameModel,
  MODEL_KINDS,
  type ModelFrame,
  TOO_LONG,
} from "./support/spec_model.ts";
import { concat } from "./support/bytes.ts";

const encoder = new TextEncoder();
const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const LENIENT = new TextDecoder("utf-8", { ignoreBOM: true });

/** fast-check's settings: a fixed seed when `FC_SEED` is set. */
function params(numRuns: number): fc.Parameters<unknown> {
  const seed = Deno.env.get("FC_SEED");
  const path = Deno.env.get("FC_PATH");
  return {
    numRuns,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
}

// ---------------------------------------------------------------------------
// Byte streams

/** Byte sequences that are not valid UTF-8 on their own. */
const INVALID_UTF8: readonly number[][] = [
  [0x80], // a lone continuation byte
  [0xff], // never valid
  [0xc3], // a truncated two-byte character
  [0xc0, 0xaf], // an overlong encoding
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate
  [0xf0, 0x9f, 0x98], // a truncated four-byte character
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
];

/**
 * A byte stream made of pieces likely to find framing bugs: arbitrary bytes,
 * UTF-8 text with multi-byte characters, terminators and stray `\r`s, runs
 * just under, at and over the limit, and invalid UTF-8.
 */
function streamArb(maxLineBytes: number): fc.Arbitrary<Uint8Array> {
  const piece = fc.oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.string({ unit: "binary", maxLength: 8 }).map((s) => encoder.encode(s)),
    fc.constantFrom("\n", "\r\n", "\r", "\r\r\n", "\n\n", "\n\r")
      .map((s) => encoder.encode(s)),
    fc.integer({ min: Math.max(0, maxLineBytes - 2), max: maxLineBytes + 3 })
      .map((n) => new Uint8Array(n).fill(0x78)),
    fc.constantFrom(...INVALID_UTF8).map((bytes) => Uint8Array.from(bytes)),
  );
  return fc.array(piece, { maxLength: 30 }).map(concat);
}

/** Cuts `data` at the given points (taken modulo its length, sorted). */
function cut(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (data.length + 1)))]
    .sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...at, data.length]) {
    // Empty chunks too: a read may hand over nothing new.
    chunks.push(data.slice(start, point));
    start = point;
  }
  return chunks;
}

/** A frame as a value that outlives the next push. */
function keep(frame: Frame): ModelFrame {
  return frame === LINE_TOO_LONG ? TOO_LONG : frame.slice();
}

/** Feeds every chunk, checking the buffer bound after each. */
function frameChunks(
  framer: LineFramer,
  chunks: readonly Uint8Array[],
  maxLineBytes: number,
): ModelFrame[] {
  const lines: ModelFrame[] = [];
  for (const chunk of chunks) {
    for (const frame of framer.push(chunk)) lines.push(keep(frame));
    // Never more than one line's worth (plus a possible `\r`) is held.
    assert.ok(
      framer.pendingBytes <= maxLineBytes + 1,
      `${framer.pendingBytes} bytes held with a limit of ${maxLineBytes}`,
    );
  }
  return lines;
}

const smallLimitCase = fc.integer({ min: 1, max: 24 }).chain((max) =>
  fc.record({
    max: fc.constant(max),
    stream: streamArb(max),
    points: fc.array(fc.nat(), { maxLength: 24 }),
  })
);

Deno.test("property: LineFramer gives the same lines however the stream is cut", () => {
  fc.assert(
    fc.property(smallLimitCase, ({ max, stream, points }) => {
      const model = frameModel(stream, max);

      const whole = new LineFramer({ maxLineBytes: max });
      const unsplit = frameChunks(whole, [stream], max);
      const unsplitLast = whole.flush();

      const pieces = new LineFramer({ maxLineBytes: max });
      const split = frameChunks(pieces, cut(stream, points), max);
      const splitLast = pieces.flush();

      assert.deepEqual(split, unsplit);
      assert.deepEqual(split, model.lines);
      const last = (frame: Frame | undefined) =>
        frame === undefined ? undefined : keep(frame);
      assert.deepEqual(last(splitLast), last(unsplitLast));
      assert.deepEqual(last(splitLast), model.last);
      // After a flush the framer starts afresh.
      assert.equal(pieces.pendingBytes, 0);
      assert.equal(pieces.flush(), undefined);
    }),
    params(1000),
  );
});

Deno.test("property: LineFramer at the default limit, one byte either side", () => {
  const max = DEFAULT_MAX_LINE_BYTES;
  const around = fc.record({
    length: fc.integer({ min: max - 1, max: max + 2 }),
    crlf: fc.boolean(),
    after: fc.constantFrom("", "/list\n", "x"),
    points: fc.array(fc.nat(), { maxLength: 8 }),
  });
  fc.assert(
    fc.property(around, ({ length, crlf, after, points }) => {
      const stream = concat([
        new Uint8Array(length).fill(0x61),
        encoder.encode((crlf ? "\r\n" : "\n") + after),
      ]);
      const model = frameModel(stream, max);
      const framer = new LineFramer();
      assert.deepEqual(
        frameChunks(framer, cut(stream, points), max),
        model.lines,
      );
      const last = framer.flush();
      assert.deepEqual(last === undefined ? undefined : keep(last), model.last);
      // The spec's own words: at most 65,536 bytes, terminator excluded.
      assert.equal(model.lines[0] === TOO_LONG, length > max);
    }),
    params(60),
  );
});

// ---------------------------------------------------------------------------
// LineReader: framing plus decoding

/** Hands out the chunks, each over as many reads as the buffer needs. */
class ChunkSource implements ByteSource {
  readonly #chunks: Uint8Array[];
  constructor(chunks: readonly Uint8Array[]) {
    this.#chunks = [...chunks];
  }
  read(buffer: Uint8Array): Promise<number | null> {
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const count = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, count));
    if (count < chunk.length) this.#chunks.unshift(chunk.subarray(count));
    return Promise.resolve(count);
  }
}

function expectedResult(frame: ModelFrame, strict: boolean): LineResult {
  if (frame === TOO_LONG) return LINE_TOO_LONG;
  if (!strict) return LENIENT.decode(frame);
  try {
    return STRICT.decode(frame);
  } catch {
    return LINE_NOT_UTF8;
  }
}

const readerCase = fc.integer({ min: 1, max: 24 }).chain((max) =>
  fc.record({
    max: fc.constant(max),
    stream: streamArb(max),
    points: fc.array(fc.nat(), { maxLength: 24 }),
    bufferSize: fc.integer({ min: 1, max: 16 }),
    strict: fc.boolean(),
    acceptUnterminated: fc.boolean(),
  })
);

Deno.test("property: LineReader decodes only whole lines, however they are cut", async () => {
  await fc.assert(
    fc.asyncProperty(readerCase, async (c) => {
      const reader = new LineReader(new ChunkSource(cut(c.stream, c.points)), {
        maxLineBytes: c.max,
        bufferSize: c.bufferSize,
        strictUtf8: c.strict,
        acceptUnterminated: c.acceptUnterminated,
      });
      const got: LineResult[] = [];
      for (let line = await reader.readLine(); line !== null;) {
        got.push(line);
        line = await reader.readLine();
      }
      const model = frameModel(c.stream, c.max);
      const frames = c.acceptUnterminated && model.last !== undefined
        ? [...model.lines, model.last]
        : model.lines;
      assert.deepEqual(got, frames.map((f) => expectedResult(f, c.strict)));
      // The end stays the end.
      assert.equal(await reader.readLine(), null);
    }),
    params(600),
  );
});

Deno.test("property: valid UTF-8 text survives any cut, byte for byte", async () => {
  const textCase = fc.record({
    lines: fc.array(
      fc.string({ unit: "binary", maxLength: 20 })
        .map((s) => s.replaceAll("\n", "")),
      { minLength: 1, maxLength: 8 },
    ),
    crlf: fc.boolean(),
    points: fc.array(fc.nat(), { maxLength: 40 }),
    bufferSize: fc.integer({ min: 1, max: 8 }),
  });
  await fc.assert(
    fc.asyncProperty(textCase, async (c) => {
      const stream = encoder.encode(
        c.lines.map((l) => l + (c.crlf ? "\r\n" : "\n")).join(""),
      );
      const reader = new LineReader(new ChunkSource(cut(stream, c.points)), {
        bufferSize: c.bufferSize,
      });
      const got: LineResult[] = [];
      for (let line = await reader.readLine(); line !== null;) {
        got.push(line);
        line = await reader.readLine();
      }
      // With CRLF every line comes back as it was; with a bare LF a line's
      // own trailing `\r` reads as part of the terminator.
      assert.deepEqual(
        got,
        c.lines.map((l) => c.crlf ? l : l.replace(/\r$/, "")),
      );
    }),
    params(500),
  );
});

// ---------------------------------------------------------------------------
// parseCommand

/** Strings built from the protocol's own words and the bytes around them. */
const commandish: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom(
    "/login",
    "/login ",
    "/port",
    "/port ",
    "/list",
    "/to",
    "/to ",
    "/toall",
    "/toall ",
    "/exit",
    "/from ",
    "/LIST",
    "/Exit",
    " /list",
    "",
  ),
  fc.array(
    fc.constantFrom(
      " ",
      "  ",
      "bob",
      "jacky",
      "12345",
      "0",
      "9",
      "65535",
      "65536",
      "00080",
      "\r",
      "\t",
      "\0",
      "\u00a0",
      "\ufeff",
      "é",
      "😀",
      "٣",
      "/",
      "\ud800",
      "x",
    ),
    { maxLength: 6 },
  ),
).map(([head, tail]) => head + tail.join(""));

/** `/port` with numbers and digit strings around the valid range. */
const portish: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom("/port ", "/port", "/port  ", "/Port "),
  fc.oneof(
    fc.integer({ min: -5, max: 70_000 }).map(String),
    fc.constantFrom("0", "00000", "65535", "65536", "99999", "000001"),
    fc.string({
      unit: fc.constantFrom("0", "1", "5", "6", "9", " ", "\r", "+", "x"),
      maxLength: 7,
    }),
  ),
).map(([head, tail]) => head + tail);

/** `/login`, `/to` and `/toall` with words, spaces and gaps in any order. */
const wordy: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom("/login", "/to", "/toall"),
  fc.array(fc.constantFrom(" ", "bob", "pw", "", "\t", "\r", "é"), {
    maxLength: 6,
  }),
).map(([head, tail]) => head + tail.join(""));

const anyLine: fc.Arbitrary<string> = fc.oneof(
  commandish,
  portish,
  wordy,
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom("/", " ", "t", "o", "l", "a", "1", "\r", "\ud800"),
    maxLength: 16,
  }),
);

Deno.test("property: parseCommand never throws and classifies every line as the protocol says", () => {
  fc.assert(
    fc.property(anyLine, (line) => {
      const command = parseCommand(line);
      assert.ok(MODEL_KINDS.includes(command.kind), `kind ${command.kind}`);
      assert.deepEqual(command, classifyModel(line), JSON.stringify(line));
      // Whatever was taken from the line rebuilds it exactly.
      switch (command.kind) {
        case "login":
          assert.equal(formatLogin(command.user, command.password), line);
          break;
        case "to":
          assert.equal(formatTo(command.target, command.content), line);
          break;
        case "toall":
          assert.equal(formatToAll(command.content), line);
          break;
        case "port":
          assert.equal(Number(line.slice("/port ".length)), command.port);
          break;
      }
    }),
    params(3000),
  );
});

// ---------------------------------------------------------------------------
// Round trips

/** One character of a name: anything but a space and `\n`. */
const nameUnit = fc.oneof(
  fc.constantFrom("a", "Z", "0", "_", "-", ".", "é", "😀", "\r", "\t", "/"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 })
    .filter((c) => c !== " " && c !== "\n"),
);
/** A user name or password: non-empty, no space, no `\n`. */
const name = fc.string({ unit: nameUnit, minLength: 1, maxLength: 12 });
/** Chat content: non-empty, no `\n`; spaces anywhere, `\r` anywhere. */
const content = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: nameUnit },
    { weight: 1, arbitrary: fc.constantFrom(" ", "\r") },
  ),
  minLength: 1,
  maxLength: 40,
});
const port = fc.integer({ min: 1, max: 65535 });
const deliveryKind = fc.constantFrom<Delivery["kind"]>("from", "broadcastfrom");

type Sample = { line: string; expected: unknown };

/** Every client message with the command it must parse back to. */
const clientMessage: fc.Arbitrary<Sample> = fc.oneof(
  fc.tuple(name, name).map(([user, password]) => ({
    line: formatLogin(user, password),
    expected: { kind: "login", user, password },
  })),
  port.map((port) => ({
    line: formatPort(port),
    expected: { kind: "port", port },
  })),
  fc.tuple(name, content).map(([target, content]) => ({
    line: formatTo(target, content),
    expected: { kind: "to", target, content },
  })),
  content.map((content) => ({
    line: formatToAll(content),
    expected: { kind: "toall", content },
  })),
);

Deno.test("property: every client command formats and parses back", () => {
  fc.assert(
    fc.property(clientMessage, ({ line, expected }) => {
      assert.ok(!line.includes("\n"));
      assert.deepEqual(parseCommand(line), expected);
    }),
    params(2000),
  );
});

Deno.test("property: /list answers format and parse back", () => {
  fc.assert(
    fc.property(fc.array(name, { minLength: 1, maxLength: 8 }), (names) => {
      const line = formatList(names);
      assert.match(line, /^301 /);
      assert.deepEqual(parseList(line), names);
    }),
    params(1000),
  );
});

Deno.test("property: /from and /broadcastfrom lines format and parse back", () => {
  fc.assert(
    fc.property(deliveryKind, name, content, (kind, sender, content) => {
      const delivery: Delivery = { kind, sender, content };
      assert.deepEqual(parseDelivery(formatDelivery(delivery)), delivery);
    }),
    params(1000),
  );
});

/** Frames `line` + `terminator` cut at `points` and decodes the one line. */
function overTheWire(
  line: string,
  terminator: string,
  points: readonly number[],
): string {
  const framer = new LineFramer();
  const stream = encoder.encode(line + terminator);
  const frames = frameChunks(
    framer,
    cut(stream, points),
    DEFAULT_MAX_LINE_BYTES,
  );
  assert.equal(frames.length, 1);
  assert.equal(framer.flush(), undefined);
  const frame = frames[0];
  assert.notEqual(frame, TOO_LONG);
  return STRICT.decode(frame as Uint8Array);
}

const wireMessage: fc.Arbitrary<Sample> = fc.oneof(
  clientMessage,
  fc.array(name, { minLength: 1, maxLength: 8 }).map((names) => ({
    line: formatList(names),
    expected: names,
  })),
  fc.tuple(deliveryKind, name, content).map(([kind, sender, content]) => ({
    line: formatDelivery({ kind, sender, content }),
    expected: { kind, sender, content },
  })),
);

function parseAny(line: string): unknown {
  if (line.startsWith("301 ")) return parseList(line);
  if (line.startsWith("/from ") || line.startsWith("/broadcastfrom ")) {
    return parseDelivery(line);
  }
  return parseCommand(line);
}

Deno.test("property: every message crosses the wire (framed, cut anywhere) unchanged, but for a trailing \\r sent with a bare \\n", () => {
  fc.assert(
    fc.property(
      wireMessage,
      fc.constantFrom("\n", "\r\n"),
      fc.array(fc.nat(), { maxLength: 10 }),
      ({ line, expected }, terminator, points) => {
        const received = overTheWire(line, terminator, points);
        const losesCr = terminator === "\n" && line.endsWith("\r");
        assert.equal(received, losesCr ? line.slice(0, -1) : line);
        if (!losesCr) assert.deepEqual(parseAny(received), expected);
      },
    ),
    params(2000),
  );
});
