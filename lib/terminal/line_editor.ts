/**
 * The line editor behind the terminal client: a pure state machine from keys
 * to the line being typed, its cursor and the history of earlier lines, and
 * the layout of that line on a terminal row of a given width.
 *
 * The cursor always stands between two grapheme clusters, so ←/→, Backspace
 * and Delete step over a whole user-perceived character: an accented letter
 * typed with a combining accent, a CJK ideograph, a flag, a family emoji.
 * Nothing here touches a terminal; `terminal_ui.ts` does that.
 *
 * @module
 */

import type { Key, KeyName } from "./key_decoder.ts";
import { graphemeBoundaries, graphemes, graphemeWidth } from "./text_width.ts";

/** The line being typed, and the history it can recall. */
export interface EditorState {
  /** The text typed so far. */
  readonly text: string;
  /** The cursor, as a UTF-16 offset into `text` on a cluster boundary. */
  readonly cursor: number;
  /** Lines entered earlier, oldest first. */
  readonly history: readonly string[];
  /** Which history line is shown; `history.length` is the new line. */
  readonly recall: number;
  /** The new line, kept while an earlier one is shown. */
  readonly draft: string;
}

/** An editor with nothing typed and no history. */
export const EMPTY_EDITOR: EditorState = {
  text: "",
  cursor: 0,
  history: [],
  recall: 0,
  draft: "",
};

/** How the editor treats the line. */
export interface EditOptions {
  /**
   * A secret (a password): never recalled from or saved to history. How it
   * is shown is up to {@linkcode layoutLine}.
   */
  secret?: boolean;
  /** Whether entered lines go to history (default true unless secret). */
  history?: boolean;
}

/** What a key asks of the program, beyond changing the line. */
export type EditorEffect =
  /** Enter: the line is entered (and the editor emptied). */
  | { kind: "submit"; line: string }
  /** Ctrl-C. */
  | { kind: "interrupt" }
  /** Ctrl-D on an empty line: end of input. */
  | { kind: "end" }
  /** Ctrl-L: clear the screen and redraw. */
  | { kind: "clear-screen" };

/** The state after a key, and what the key asks for, if anything. */
export interface EditorResult {
  /** The new state. */
  state: EditorState;
  /** What the program should do, if anything. */
  effect?: EditorEffect;
}

/** Editing actions, bound to keys by {@linkcode KEY_BINDINGS}. */
export type EditorAction =
  | "submit"
  | "interrupt"
  | "end-or-delete"
  | "backspace"
  | "delete"
  | "left"
  | "right"
  | "home"
  | "end"
  | "word-left"
  | "word-right"
  | "delete-word-before"
  | "delete-to-start"
  | "delete-to-end"
  | "history-previous"
  | "history-next"
  | "clear-screen";

/** Which key does what. Keys not listed do nothing. */
export const KEY_BINDINGS: Readonly<Partial<Record<KeyName, EditorAction>>> = {
  "enter": "submit",
  "ctrl-c": "interrupt",
  "ctrl-d": "end-or-delete",
  "backspace": "backspace",
  "delete": "delete",
  "left": "left",
  "ctrl-b": "left",
  "right": "right",
  "ctrl-f": "right",
  "home": "home",
  "ctrl-a": "home",
  "end": "end",
  "ctrl-e": "end",
  "word-left": "word-left",
  "word-right": "word-right",
  "word-backspace": "delete-word-before",
  "ctrl-w": "delete-word-before",
  "ctrl-u": "delete-to-start",
  "ctrl-k": "delete-to-end",
  "up": "history-previous",
  "ctrl-p": "history-previous",
  "down": "history-next",
  "ctrl-n": "history-next",
  "ctrl-l": "clear-screen",
};

/** Applies one key to `state`. */
export function editKey(
  state: EditorState,
  key: Key,
  options: EditOptions = {},
): EditorResult {
  if (key.kind === "text") return { state: insert(state, key.text) };
  const action = KEY_BINDINGS[key.name];
  return action === undefined ? { state } : act(state, action, options);
}

/**
 * Applies keys in order and collects the effects: handy for tests and for
 * a burst of keys read at once.
 */
export function editKeys(
  state: EditorState,
  keys: Iterable<Key>,
  options: EditOptions = {},
): { state: EditorState; effects: EditorEffect[] } {
  const effects: EditorEffect[] = [];
  for (const key of keys) {
    const result = editKey(state, key, options);
    state = result.state;
    if (result.effect !== undefined) effects.push(result.effect);
  }
  return { state, effects };
}

function act(
  state: EditorState,
  action: EditorAction,
  options: EditOptions,
): EditorResult {
  const { text, cursor } = state;
  switch (action) {
    case "submit":
      return submit(state, options);
    case "interrupt":
      return { state, effect: { kind: "interrupt" } };
    case "end-or-delete":
      if (text === "") return { state, effect: { kind: "end" } };
      return { state: deleteRange(state, cursor, nextBoundary(text, cursor)) };
    case "backspace":
      return {
        state: deleteRange(state, previousBoundary(text, cursor), cursor),
      };
    case "delete":
      return { state: deleteRange(state, cursor, nextBoundary(text, cursor)) };
    case "left":
      return { state: { ...state, cursor: previousBoundary(text, cursor) } };
    case "right":
      return { state: { ...state, cursor: nextBoundary(text, cursor) } };
    case "home":
      return { state: { ...state, cursor: 0 } };
    case "end":
      return { state: { ...state, cursor: text.length } };
    case "word-left":
      return { state: { ...state, cursor: wordStartBefore(text, cursor) } };
    case "word-right":
      return { state: { ...state, cursor: wordEndAfter(text, cursor) } };
    case "delete-word-before":
      return {
        state: deleteRange(state, wordStartBefore(text, cursor), cursor),
      };
    case "delete-to-start":
      return { state: deleteRange(state, 0, cursor) };
    case "delete-to-end":
      return { state: deleteRange(state, cursor, text.length) };
    case "history-previous":
      return {
        state: options.secret ? state : recall(state, state.recall - 1),
      };
    case "history-next":
      return {
        state: options.secret ? state : recall(state, state.recall + 1),
      };
    case "clear-screen":
      return { state, effect: { kind: "clear-screen" } };
  }
}

function submit(state: EditorState, options: EditOptions): EditorResult {
  const line = state.text;
  const keep = !options.secret && (options.history ?? true) && line !== "" &&
    state.history.at(-1) !== line;
  const history = keep ? [...state.history, line] : state.history;
  return {
    state: { text: "", cursor: 0, history, recall: history.length, draft: "" },
    effect: { kind: "submit", line },
  };
}

function insert(state: EditorState, typed: string): EditorState {
  const text = state.text.slice(0, state.cursor) + typed +
    state.text.slice(state.cursor);
  // A combining mark typed after a letter joins its cluster; the cursor
  // goes after the cluster that now holds the typed text.
  const target = state.cursor + typed.length;
  const cursor = graphemeBoundaries(text).find((offset) => offset >= target)!;
  return { ...state, text, cursor };
}

function deleteRange(
  state: EditorState,
  from: number,
  to: number,
): EditorState {
  if (from >= to) return state;
  const text = state.text.slice(0, from) + state.text.slice(to);
  return { ...state, text, cursor: from };
}

function recall(state: EditorState, index: number): EditorState {
  if (index < 0 || index > state.history.length) return state;
  if (index === state.recall) return state;
  const draft = state.recall === state.history.length
    ? state.text
    : state.draft;
  const text = index === state.history.length ? draft : state.history[index];
  return { ...state, text, cursor: text.length, recall: index, draft };
}

function previousBoundary(text: string, cursor: number): number {
  let previous = 0;
  for (const offset of graphemeBoundaries(text)) {
    if (offset >= cursor) break;
    previous = offset;
  }
  return previous;
}

function nextBoundary(text: string, cursor: number): number {
  return graphemeBoundaries(text).find((offset) => offset > cursor) ??
    text.length;
}

const isSpace = (cluster: string) => /^\s+$/u.test(cluster);

/** Offset of the start of the word before `cursor` (spaces skipped). */
function wordStartBefore(text: string, cursor: number): number {
  const bounds = graphemeBoundaries(text);
  let i = bounds.indexOf(cursor);
  while (i > 0 && isSpace(text.slice(bounds[i - 1], bounds[i]))) i -= 1;
  while (i > 0 && !isSpace(text.slice(bounds[i - 1], bounds[i]))) i -= 1;
  return bounds[i];
}

/** Offset of the end of the word after `cursor` (spaces skipped). */
function wordEndAfter(text: string, cursor: number): number {
  const bounds = graphemeBoundaries(text);
  let i = bounds.indexOf(cursor);
  const last = bounds.length - 1;
  while (i < last && isSpace(text.slice(bounds[i], bounds[i + 1]))) i += 1;
  while (i < last && !isSpace(text.slice(bounds[i], bounds[i + 1]))) i += 1;
  return bounds[i];
}

/** What the editor's row shows. */
export interface LineView {
  /** The prompt before the input, as plain text. */
  prompt: string;
  /** The text typed. */
  text: string;
  /** The cursor, a UTF-16 offset into `text`. */
  cursor: number;
  /** Hide the text (a password): nothing of it is shown. */
  secret?: boolean;
}

/** The part of the line that fits on the row, and where the cursor goes. */
export interface LineLayout {
  /** The prompt, cut if the row is very narrow. */
  prompt: string;
  /** The visible slice of the input. */
  input: string;
  /** The cursor's column, counted from 0 at the left edge. */
  cursorColumn: number;
  /** The index of the first visible cluster, to pass to the next layout. */
  scroll: number;
}

/** Fewest columns kept for the input when the prompt is long. */
const MIN_INPUT_COLUMNS = 8;

/**
 * Fits the prompt and input on one row of `columns` columns, never using the
 * last column (so the terminal never wraps). When the input is too wide, the
 * row scrolls sideways to keep the cursor in view, moving as little as
 * possible from `scroll`, the first visible cluster of the previous layout.
 */
export function layoutLine(
  view: LineView,
  columns: number,
  scroll = 0,
): LineLayout {
  const usable = Math.max(2, columns - 1);
  const prompt = fitPrompt(view.prompt, usable);
  const room = Math.max(1, usable - widthOf(graphemes(prompt)));
  if (view.secret) {
    return { prompt, input: "", cursorColumn: usable - room, scroll: 0 };
  }
  const clusters = graphemes(view.text);
  const widths = clusters.map(graphemeWidth);
  const bounds = graphemeBoundaries(view.text);
  let at = bounds.indexOf(view.cursor);
  if (at < 0) at = bounds.findIndex((offset) => offset > view.cursor);
  if (at < 0) at = clusters.length;

  // The cursor needs the cell it stands on: the cluster under it, or one
  // blank cell at the end of the line.
  const cursorCell = at < clusters.length ? Math.max(1, widths[at]) : 1;
  let first = Math.min(Math.max(0, scroll), at);
  while (first < at && sum(widths, first, at) + cursorCell > room) first += 1;
  // Use free room on the right to show more of the text on the left (still
  // keeping a cell for the cursor at the end, so the view does not jump).
  while (first > 0 && sum(widths, first - 1, clusters.length) + 1 <= room) {
    first -= 1;
  }

  let last = first;
  let used = 0;
  while (last < clusters.length && used + widths[last] <= room) {
    used += widths[last];
    last += 1;
  }
  return {
    prompt,
    input: clusters.slice(first, last).join(""),
    cursorColumn: usable - room + sum(widths, first, at),
    scroll: first,
  };
}

function fitPrompt(prompt: string, usable: number): string {
  const clusters = graphemes(prompt);
  const limit = Math.max(0, usable - MIN_INPUT_COLUMNS);
  let width = widthOf(clusters);
  while (width > limit && clusters.length > 0) {
    width -= graphemeWidth(clusters.shift()!);
  }
  return clusters.join("");
}

function widthOf(clusters: string[]): number {
  return sum(clusters.map(graphemeWidth), 0, clusters.length);
}

function sum(values: number[], from: number, to: number): number {
  let total = 0;
  for (let i = from; i < to; i += 1) total += values[i];
  return total;
}

/**
 * The escape sequences that redraw the editor's row from a layout: go to
 * column 0, clear the row, write prompt and input, put the cursor back.
 * `stylePrompt` may colour the prompt (its width must not change).
 */
export function drawLine(
  layout: LineLayout,
  stylePrompt: (prompt: string) => string = (prompt) => prompt,
): string {
  const prompt = layout.prompt === "" ? "" : stylePrompt(layout.prompt);
  const move = layout.cursorColumn > 0 ? `\x1b[${layout.cursorColumn}C` : "";
  return `\r\x1b[2K${prompt}${layout.input}\r${move}`;
}
