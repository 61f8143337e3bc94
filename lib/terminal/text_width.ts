/**
 * How text occupies a terminal line: user-perceived characters (grapheme
 * clusters, via `Intl.Segmenter`) and how many columns each one takes.
 *
 * A cluster is what the cursor steps over and what Backspace deletes: `é`
 * written as `e` plus a combining accent, a flag, or a family emoji joined by
 * zero-width joiners is one cluster. East Asian wide and fullwidth characters
 * and emoji take two columns; combining marks and format characters take
 * none. Terminals disagree about some emoji sequences; this module follows
 * Unicode (UAX #11 and UTS #51), as most current terminals do.
 *
 * @module
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** The grapheme clusters of `text`, in order. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (part) => part.segment);
}

/**
 * The UTF-16 offsets in `text` where a grapheme cluster starts, plus
 * `text.length`: the places the cursor may stand.
 */
export function graphemeBoundaries(text: string): number[] {
  const offsets = Array.from(segmenter.segment(text), (part) => part.index);
  offsets.push(text.length);
  return offsets;
}

// East Asian Wide (W) and Fullwidth (F) ranges of UAX #11 that are not
// emoji (emoji are found by their Emoji_Presentation property instead).
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility, CJK
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16fe4], // ideographic symbols
  [0x17000, 0x18cff], // Tangut, Khitan
  [0x1b000, 0x1b2ff], // Kana supplement and extensions, Nushu
  [0x20000, 0x2fffd], // CJK extensions B to F, compatibility supplement
  [0x30000, 0x3fffd], // CJK extensions G and H
];

const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}/u;
const EMOJI = /^\p{Emoji}/u;
const EMOJI_MODIFIER = /\p{Emoji_Modifier}/u;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u1160-\u11ff\u200b]/u;
const VARIATION_EMOJI = "\ufe0f";
const ZWJ = "\u200d";

function isWide(codePoint: number): boolean {
  for (const [low, high] of WIDE_RANGES) {
    if (codePoint < low) return false;
    if (codePoint <= high) return true;
  }
  return false;
}

/** Columns taken by one grapheme cluster: 0, 1 or 2. */
export function graphemeWidth(cluster: string): number {
  const first = cluster.codePointAt(0);
  if (first === undefined) return 0;
  if (first < 0x20 || (first >= 0x7f && first < 0xa0)) return 0;
  if (cluster.length === 1 && first < 0x7f) return 1;
  if (EMOJI_PRESENTATION.test(cluster)) return 2;
  if (
    EMOJI.test(cluster) &&
    (cluster.includes(VARIATION_EMOJI) || cluster.includes(ZWJ) ||
      EMOJI_MODIFIER.test(cluster))
  ) {
    return 2;
  }
  if (isWide(first)) return 2;
  if (ZERO_WIDTH.test(cluster)) return 0;
  return 1;
}

/** Columns taken by `text` on a terminal line. */
export function textWidth(text: string): number {
  // Plain ASCII (the common case) needs no segmentation.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const cluster of graphemes(text)) width += graphemeWidth(cluster);
  return width;
}
