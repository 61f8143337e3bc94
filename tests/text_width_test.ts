/**
 * Unit tests for grapheme clusters and display widths: what the cursor steps
 * over and how many columns it takes.
 */

import assert from "node:assert/strict";
import {
  graphemeBoundaries,
  graphemes,
  graphemeWidth,
  textWidth,
} from "../lib/terminal/text_width.ts";

const FAMILY = "\u{1F469}\u200D\u{1F469}\u200D\u{1F467}"; // 👩‍👩‍👧
const E_ACUTE_COMBINING = "e\u0301"; // é as e + combining acute
const FLAG_FR = "\u{1F1EB}\u{1F1F7}"; // 🇫🇷
const THUMBS_UP_TONE = "\u{1F44D}\u{1F3FD}"; // 👍🏽
const HEART_EMOJI = "\u2764\uFE0F"; // ❤️
const KEYCAP_ONE = "1\uFE0F\u20E3"; // 1️⃣

Deno.test("graphemes: user-perceived characters stay whole", () => {
  assert.deepEqual(graphemes("abc"), ["a", "b", "c"]);
  assert.deepEqual(graphemes(`x${E_ACUTE_COMBINING}y`), [
    "x",
    E_ACUTE_COMBINING,
    "y",
  ]);
  assert.deepEqual(graphemes(`a${FAMILY}b`), ["a", FAMILY, "b"]);
  assert.deepEqual(graphemes(FLAG_FR + FLAG_FR), [FLAG_FR, FLAG_FR]);
  assert.deepEqual(graphemes(THUMBS_UP_TONE), [THUMBS_UP_TONE]);
  assert.deepEqual(graphemes("世界"), ["世", "界"]);
  assert.deepEqual(graphemes(""), []);
});

Deno.test("graphemeBoundaries: UTF-16 offsets where the cursor may stand", () => {
  assert.deepEqual(graphemeBoundaries(""), [0]);
  assert.deepEqual(graphemeBoundaries("ab"), [0, 1, 2]);
  // The family is 8 UTF-16 units: three surrogate pairs and two joiners.
  assert.deepEqual(graphemeBoundaries(`a${FAMILY}b`), [0, 1, 9, 10]);
  assert.deepEqual(graphemeBoundaries(`${E_ACUTE_COMBINING}!`), [0, 2, 3]);
});

Deno.test("graphemeWidth: narrow, wide and zero-width clusters", () => {
  const cases: [string, number][] = [
    ["a", 1],
    [" ", 1],
    ["é", 1],
    [E_ACUTE_COMBINING, 1],
    ["ß", 1],
    ["Ω", 1],
    ["世", 2],
    ["界", 2],
    ["한", 2],
    ["カ", 2],
    ["ａ", 2], // fullwidth Latin
    ["。", 2],
    ["ｶ", 1], // halfwidth katakana
    ["\u{1F44D}", 2], // 👍
    ["\u{1F600}", 2], // 😀
    [FAMILY, 2],
    [FLAG_FR, 2],
    [THUMBS_UP_TONE, 2],
    [HEART_EMOJI, 2],
    ["\u2764", 1], // ❤ without the emoji variation selector: text style
    [KEYCAP_ONE, 2],
    ["\u0301", 0], // a combining mark on its own
    ["\u200B", 0], // zero-width space
    ["\x1b", 0],
    ["", 0],
  ];
  for (const [cluster, width] of cases) {
    assert.equal(graphemeWidth(cluster), width, JSON.stringify(cluster));
  }
});

Deno.test("textWidth: sums the clusters", () => {
  assert.equal(textWidth("hello"), 5);
  assert.equal(textWidth(""), 0);
  assert.equal(textWidth("héllo 世界"), 10);
  assert.equal(textWidth(`hi ${FAMILY}!`), 6);
  assert.equal(textWidth(`caf${E_ACUTE_COMBINING}`), 4);
});
