/**
 * Unit tests for how the terminal client shows chat, replies and errors:
 * the chat format, colour on and off, and control characters neutralised.
 */

import assert from "node:assert/strict";
import {
  formatError,
  formatIncoming,
  formatPrompt,
  formatReply,
  formatTime,
  sanitize,
  senderColour,
} from "../lib/terminal/chat_view.ts";

const AT = new Date(2024, 1, 23, 9, 5, 42);
const ESC = "\x1b";
const hasEscape = (text: string) => text.includes(ESC);
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, "g");
/** `text` without its colour codes. */
const plain = (text: string) => text.replace(SGR, "");

Deno.test("formatTime: HH:MM, local time", () => {
  assert.equal(formatTime(AT), "09:05");
  assert.equal(formatTime(new Date(2024, 0, 1, 23, 59, 59)), "23:59");
  assert.equal(formatTime(new Date(2024, 0, 1, 0, 0)), "00:00");
});

Deno.test("formatIncoming: a private message reads like chat", () => {
  assert.equal(
    formatIncoming("/from bob Jacky, nice to meet you too!", AT, false),
    "[09:05] bob: Jacky, nice to meet you too!",
  );
});

Deno.test("formatIncoming: a broadcast is marked as such", () => {
  assert.equal(
    formatIncoming("/broadcastfrom michael No problem.", AT, false),
    "[09:05] michael (to all): No problem.",
  );
});

Deno.test("formatIncoming: content is kept as sent, spaces and all", () => {
  assert.equal(
    formatIncoming("/from bob  two  spaces ", AT, false),
    "[09:05] bob:  two  spaces ",
  );
  assert.equal(
    formatIncoming("/from 李 你好，世界 👩‍👩‍👧", AT, false),
    "[09:05] 李: 你好，世界 👩‍👩‍👧",
  );
});

Deno.test("formatIncoming: a line that is not chat is shown as it came", () => {
  assert.equal(formatIncoming("/fromage", AT, false), "/fromage");
  assert.equal(formatIncoming("hello", AT, false), "hello");
});

Deno.test("formatIncoming: colour for time, sender and the broadcast mark", () => {
  const line = formatIncoming("/broadcastfrom bob OK.", AT, true);
  assert.ok(hasEscape(line));
  assert.equal(
    plain(line),
    "[09:05] bob (to all): OK.",
  );
  assert.ok(line.includes(`\x1b[1;${senderColour("bob")}mbob\x1b[0m`), line);
  assert.ok(line.endsWith(": OK."), "the content itself is not coloured");
});

Deno.test("senderColour: stable per name, never red", () => {
  assert.equal(senderColour("bob"), senderColour("bob"));
  const colours = new Set(
    ["jacky", "bob", "michael", "alice", "carol", "dave"].map(senderColour),
  );
  assert.ok(colours.size > 1, "different names get different colours");
  assert.ok(!colours.has("31"));
});

Deno.test("formatReply: the whole reply, status code included", () => {
  for (
    const line of [
      "101 Authentication successful",
      "102 Authentication failed",
      "301 jacky bob michael",
      "303 Message delivery successful",
      "304 Message delivery failed",
      "310 Bye bye",
      "401 Unrecognized message",
    ]
  ) {
    assert.equal(formatReply(line, false), line);
    assert.equal(plain(formatReply(line, true)), line);
  }
});

Deno.test("formatReply: green for success, red for failure codes", () => {
  assert.equal(
    formatReply("303 Message delivery successful", true),
    "\x1b[1;32m303\x1b[0m Message delivery successful",
  );
  for (const code of ["102", "202", "304", "401"]) {
    assert.ok(
      formatReply(`${code} x`, true).startsWith(`\x1b[1;31m${code}`),
      code,
    );
  }
  assert.equal(formatReply("not a reply", true), "not a reply");
});

Deno.test("formatError and formatPrompt: colour only when asked", () => {
  assert.equal(formatError("error: gone", false), "error: gone");
  assert.equal(formatError("error: gone", true), "\x1b[31merror: gone\x1b[0m");
  assert.equal(formatPrompt("jacky> ", false), "jacky> ");
  assert.equal(formatPrompt("jacky> ", true), "\x1b[1mjacky> \x1b[0m");
});

Deno.test("sanitize: control characters from the network are made visible", () => {
  assert.equal(sanitize("plain text, é 世"), "plain text, é 世");
  assert.equal(sanitize("\x1b[2J\x1b[31mred"), "␛[2J␛[31mred");
  assert.equal(sanitize("a\rb\nc\td\x07"), "a␍b␊c␉d␇");
  assert.equal(sanitize("del\x7f c1\x9b"), "del␡ c1\uFFFD");
});

Deno.test("formatIncoming and formatReply never pass an escape sequence through", () => {
  const evil = "/from mallory \x1b[2J\x1b[Hgotcha\r";
  assert.ok(!hasEscape(formatIncoming(evil, AT, false)));
  assert.ok(!formatIncoming(evil, AT, false).includes("\r"));
  assert.ok(!hasEscape(formatReply("303 \x1b]0;title\x07", false)));
  const coloured = formatIncoming(evil, AT, true);
  assert.ok(!coloured.includes("\x1b[2J") && !coloured.includes("\x1b[H"));
});
