/**
 * The web client's frames as `docs/web.md` gives them: each page frame
 * becomes the protocol line the table says, and a frame's size is counted
 * in UTF-8 bytes, as a line on TCP is.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { LINE_NOT_UTF8, LINE_TOO_LONG } from "../lib/net/line_reader.ts";
import { parseClientFrame, utf8Length } from "../lib/web/mod.ts";

const MAX = 65536;

Deno.test("web frames: each op is the line of the table", () => {
  const table: [string, string][] = [
    ['{"op":"login","user":"jacky","password":"12345"}', "/login jacky 12345"],
    ['{"op":"list"}', "/list"],
    [
      '{"op":"to","to":"bob","text":"Hello! Nice to meet you!"}',
      "/to bob Hello! Nice to meet you!",
    ],
    ['{"op":"toall","text":" spaces  kept "}', "/toall  spaces  kept "],
    ['{"op":"exit"}', "/exit"],
    // Fields the server does not know are left aside.
    ['{"op":"list","id":7}', "/list"],
  ];
  for (const [frame, line] of table) {
    assert.deepEqual(parseClientFrame(frame, MAX), { kind: "command", line });
  }
  assert.deepEqual(parseClientFrame('{"op":"received"}', MAX), {
    kind: "received",
  });
});

Deno.test("web frames: what is no command is refused with a reason", () => {
  const refusals: [unknown, RegExp, symbol][] = [
    ["not json", /one JSON object/, LINE_NOT_UTF8],
    ["null", /one JSON object/, LINE_NOT_UTF8],
    ['"/list"', /one JSON object/, LINE_NOT_UTF8],
    ['{"op":"port","port":5000}', /unknown op "port"/, LINE_NOT_UTF8],
    [
      '{"op":"login","user":"jacky"}',
      /needs "user" and "password"/,
      LINE_NOT_UTF8,
    ],
    ['{"op":"to","to":"bob","text":"a\\nb"}', /newline/, LINE_NOT_UTF8],
    [new ArrayBuffer(4), /binary/, LINE_NOT_UTF8],
    // A frame far over is not even parsed.
    ["{".repeat(6 * MAX + 1025), /frame of 394241 characters/, LINE_TOO_LONG],
  ];
  for (const [frame, why, mark] of refusals) {
    const parsed = parseClientFrame(frame, MAX);
    assert.equal(parsed.kind, "refused", String(frame).slice(0, 40));
    if (parsed.kind !== "refused") continue;
    assert.match(parsed.why, why);
    assert.equal(parsed.mark, mark);
  }
});

Deno.test("web frames: the line limit counts UTF-8 bytes", () => {
  // "/toall " is 7 bytes; "€" is 3.
  const fits = "€".repeat((MAX - 7) / 3);
  assert.equal(utf8Length(`/toall ${fits}`), MAX);
  assert.equal(
    parseClientFrame(JSON.stringify({ op: "toall", text: fits }), MAX).kind,
    "command",
  );
  const over = parseClientFrame(
    JSON.stringify({ op: "toall", text: fits + "!" }),
    MAX,
  );
  assert.equal(over.kind, "refused");
  assert.equal(over.kind === "refused" && over.mark, LINE_TOO_LONG);
});

Deno.test("web frames: byte lengths agree with the encoder", () => {
  const encoder = new TextEncoder();
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
      assert.equal(utf8Length(text), encoder.encode(text).length);
    }),
  );
  // Lone surrogates are written as U+FFFD.
  for (const text of ["\ud800", "a\udc00b", "\ud83d\ude00\ud83d"]) {
    assert.equal(utf8Length(text), encoder.encode(text).length, text);
  }
});
