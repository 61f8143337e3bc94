/**
 * Unit tests for the line editor: key sequences (as a terminal sends them)
 * to the line, the cursor, the history and the row drawn, with no terminal.
 */

import assert from "node:assert/strict";
import { KeyDecoder } from "../lib/terminal/key_decoder.ts";
import {
  drawLine,
  editKeys,
  type EditOptions,
  type EditorEffect,
  type EditorState,
  EMPTY_EDITOR,
  layoutLine,
} from "../lib/terminal/line_editor.ts";
import { VirtualScreen } from "./support/virtual_screen.ts";

const LEFT = "\x1b[D";
const RIGHT = "\x1b[C";
const UP = "\x1b[A";
const DOWN = "\x1b[B";
const HOME = "\x1b[H";
const END = "\x1b[F";
const DELETE = "\x1b[3~";
const BACKSPACE = "\x7f";
const ENTER = "\r";
const CTRL_C = "\x03";
const CTRL_D = "\x04";

const FAMILY = "\u{1F469}\u200D\u{1F469}\u200D\u{1F467}"; // 👩‍👩‍👧
const FLAG_FR = "\u{1F1EB}\u{1F1F7}";

/** Types `input` (terminal bytes) into `state`. */
function type(
  input: string,
  state: EditorState = EMPTY_EDITOR,
  options: EditOptions = {},
): { state: EditorState; effects: EditorEffect[] } {
  const keys = new KeyDecoder().push(new TextEncoder().encode(input));
  return editKeys(state, keys, options);
}

/** The line with `|` where the cursor is. */
function show(state: EditorState): string {
  return state.text.slice(0, state.cursor) + "|" +
    state.text.slice(state.cursor);
}

Deno.test("editor: typing inserts at the cursor", () => {
  assert.equal(show(type("hello").state), "hello|");
  assert.equal(show(type(`hello${LEFT}${LEFT}XY`).state), "helXY|lo");
  assert.equal(show(type(`world${HOME}hello `).state), "hello |world");
  assert.equal(show(type(`ab${HOME}${END}c`).state), "abc|");
});

Deno.test("editor: Left and Right stop at the ends", () => {
  assert.equal(show(type(`ab${LEFT}${LEFT}${LEFT}`).state), "|ab");
  assert.equal(show(type(`ab${HOME}${RIGHT}${RIGHT}${RIGHT}`).state), "ab|");
});

Deno.test("editor: Backspace and Delete", () => {
  assert.equal(show(type(`abc${BACKSPACE}`).state), "ab|");
  assert.equal(show(type(`abc${LEFT}${BACKSPACE}`).state), "a|c");
  assert.equal(show(type(`abc${HOME}${BACKSPACE}`).state), "|abc");
  assert.equal(show(type(`abc${HOME}${DELETE}`).state), "|bc");
  assert.equal(show(type(`abc${DELETE}`).state), "abc|");
  assert.equal(show(type(`abc${LEFT}\x04`).state), "ab|", "Ctrl-D deletes");
});

Deno.test("editor: Ctrl-A/E/B/F/U/K/W and word moves", () => {
  assert.equal(show(type("one two\x01").state), "|one two");
  assert.equal(show(type("one two\x01\x05").state), "one two|");
  assert.equal(show(type("one two\x02\x02\x06").state), "one tw|o");
  assert.equal(show(type(`one two${LEFT}${LEFT}\x15`).state), "|wo");
  assert.equal(show(type(`one two${LEFT}${LEFT}\x0b`).state), "one t|");
  assert.equal(show(type("/to bob hello  \x17").state), "/to bob |");
  assert.equal(
    show(type("one two three\x1b[1;5D\x1b[1;5D").state),
    "one |two three",
  );
  assert.equal(
    show(type(`one two three${HOME}\x1b[1;5C\x1b[1;5C`).state),
    "one two| three",
  );
});

Deno.test("editor: accents, CJK and emoji are edited a whole character at a time", () => {
  const eAcute = "e\u0301";
  // A combining accent typed after its letter joins it.
  assert.equal(show(type(`cafe\u0301`).state), `caf${eAcute}|`);
  assert.equal(show(type(`caf${eAcute}${BACKSPACE}`).state), "caf|");
  assert.equal(
    show(type(`caf${eAcute}!${LEFT}${LEFT}`).state),
    `caf|${eAcute}!`,
  );
  assert.equal(
    show(type(`héllo${LEFT}${LEFT}${LEFT}${LEFT}${BACKSPACE}`).state),
    "|éllo",
  );
  assert.equal(show(type(`h${LEFT}${DELETE}é`).state), "é|");

  assert.equal(show(type(`世界${LEFT}${BACKSPACE}`).state), "|界");
  assert.equal(show(type(`世界${HOME}${RIGHT}X`).state), "世X|界");

  const line = `hi ${FAMILY} ${FLAG_FR}!`;
  assert.equal(
    show(type(`${line}${LEFT}${BACKSPACE}`).state),
    `hi ${FAMILY} |!`,
  );
  assert.equal(
    show(type(`${line}${LEFT}${LEFT}${LEFT}${BACKSPACE}`).state),
    `hi | ${FLAG_FR}!`,
    "the whole family goes in one Backspace",
  );
  assert.equal(
    show(type(`${line}${HOME}${RIGHT}${RIGHT}${RIGHT}${DELETE}`).state),
    `hi | ${FLAG_FR}!`,
  );
  assert.equal(
    show(type(`${line}${HOME}${RIGHT}${RIGHT}${RIGHT}${RIGHT}`).state),
    `hi ${FAMILY}| ${FLAG_FR}!`,
  );
});

Deno.test("editor: Enter submits the line as typed and empties the editor", () => {
  const { state, effects } = type(`  spaces  kept ${ENTER}`);
  assert.deepEqual(effects, [{ kind: "submit", line: "  spaces  kept " }]);
  assert.equal(show(state), "|");
  assert.deepEqual(type(ENTER).effects, [{ kind: "submit", line: "" }]);
});

Deno.test("editor: Ctrl-C interrupts; Ctrl-D ends only an empty line", () => {
  assert.deepEqual(type(`abc${CTRL_C}`).effects, [{ kind: "interrupt" }]);
  assert.deepEqual(type(CTRL_D).effects, [{ kind: "end" }]);
  assert.deepEqual(type(`a${CTRL_D}`).effects, []);
});

Deno.test("editor: Up and Down recall earlier lines, keeping the new one", () => {
  let { state } = type(`/list${ENTER}/to bob hi${ENTER}/toall yo${ENTER}`);
  assert.deepEqual(state.history, ["/list", "/to bob hi", "/toall yo"]);

  state = type("draft", state).state;
  state = type(UP, state).state;
  assert.equal(show(state), "/toall yo|");
  state = type(`${UP}${UP}`, state).state;
  assert.equal(show(state), "/list|");
  state = type(UP, state).state;
  assert.equal(show(state), "/list|", "stays on the oldest");
  state = type(DOWN, state).state;
  assert.equal(show(state), "/to bob hi|");
  state = type(`${DOWN}${DOWN}`, state).state;
  assert.equal(show(state), "draft|", "the new line comes back");
  state = type(DOWN, state).state;
  assert.equal(show(state), "draft|");

  // A recalled line can be edited and entered.
  const recalled = type(`${UP}${UP}${BACKSPACE}${BACKSPACE}yo${ENTER}`, state);
  assert.deepEqual(recalled.effects, [{ kind: "submit", line: "/to bob yo" }]);
  assert.deepEqual(recalled.state.history.at(-1), "/to bob yo");
});

Deno.test("editor: history skips empty lines and repeats", () => {
  const { state } = type(`/list${ENTER}${ENTER}/list${ENTER}/exit${ENTER}`);
  assert.deepEqual(state.history, ["/list", "/exit"]);
});

Deno.test("editor: a secret is never saved nor recalled", () => {
  let { state } = type(`/list${ENTER}`);
  const secret = type(`s3cret${UP}${ENTER}`, state, { secret: true });
  assert.deepEqual(secret.effects, [{ kind: "submit", line: "s3cret" }]);
  assert.deepEqual(secret.state.history, ["/list"]);
  state = type(`jacky${ENTER}`, EMPTY_EDITOR, { history: false }).state;
  assert.deepEqual(state.history, []);
});

Deno.test("layoutLine: prompt and text with the cursor column", () => {
  const layout = layoutLine(
    { prompt: "jacky> ", text: "hello", cursor: 3 },
    80,
  );
  assert.deepEqual(layout, {
    prompt: "jacky> ",
    input: "hello",
    cursorColumn: 10,
    scroll: 0,
  });
  const wide = layoutLine(
    { prompt: "> ", text: `世界${FAMILY}x`, cursor: 2 },
    80,
  );
  assert.equal(wide.cursorColumn, 2 + 2 + 2, "after two wide characters");
  const end = layoutLine(
    { prompt: "> ", text: `世界${FAMILY}x`, cursor: 11 },
    80,
  );
  assert.equal(end.cursorColumn, 2 + 2 + 2 + 2 + 1);
});

Deno.test("layoutLine: a password shows nothing, not even its length", () => {
  const layout = layoutLine(
    {
      prompt: "Please input your password: ",
      text: "s3cret",
      cursor: 6,
      secret: true,
    },
    80,
  );
  assert.equal(layout.input, "");
  assert.equal(layout.cursorColumn, 28);
  assert.ok(!drawLine(layout).includes("s3cret"));
  assert.ok(!drawLine(layout).includes("*"));
});

Deno.test("layoutLine: a long line scrolls sideways to keep the cursor in view", () => {
  const text = "abcdefghijklmnopqrstuvwxyz";
  const columns = 12; // 11 usable: "> " and 9 of text
  const atEnd = layoutLine(
    { prompt: "> ", text, cursor: text.length },
    columns,
  );
  assert.equal(atEnd.input, "stuvwxyz");
  assert.equal(atEnd.cursorColumn, 10);
  assert.ok(atEnd.cursorColumn < columns);

  const atStart = layoutLine(
    { prompt: "> ", text, cursor: 0 },
    columns,
    atEnd.scroll,
  );
  assert.equal(atStart.input, "abcdefghi");
  assert.equal(atStart.cursorColumn, 2);

  // Moving left a little from the end does not jump the view.
  const near = layoutLine(
    { prompt: "> ", text, cursor: 22 },
    columns,
    atEnd.scroll,
  );
  assert.equal(near.input, atEnd.input);
  assert.equal(near.cursorColumn, 6);
});

Deno.test("layoutLine: wide characters never straddle the right edge", () => {
  const text = "世界世界世界世界";
  const columns = 14; // 13 usable: "> " and 11 for the text
  const start = layoutLine({ prompt: "> ", text, cursor: 0 }, columns);
  assert.equal(start.input, "世界世界世", "10 columns of the 11");
  const end = layoutLine({ prompt: "> ", text, cursor: text.length }, columns);
  assert.equal(end.input, "界世界世界");
  assert.equal(end.cursorColumn, 12);
  const screen = new VirtualScreen(columns);
  screen.write(drawLine(end));
  assert.equal(screen.cursorLine(), "> 界世界世界");
  assert.equal(screen.row, 0, "nothing wrapped");
});

Deno.test("layoutLine: a prompt too long for the row is cut from the left", () => {
  const layout = layoutLine({
    prompt: "Please input your user name: ",
    text: "jacky",
    cursor: 5,
  }, 20);
  assert.ok(layout.prompt.length <= 19 - 8, layout.prompt);
  assert.ok("Please input your user name: ".endsWith(layout.prompt));
  assert.equal(layout.input, "jacky");
});

Deno.test("drawLine: clears the row, writes it, puts the cursor back", () => {
  const layout = layoutLine({
    prompt: "jacky> ",
    text: "héllo 世界",
    cursor: 2,
  }, 80);
  const drawn = drawLine(layout, (prompt) => `\x1b[1m${prompt}\x1b[0m`);
  assert.equal(drawn, "\r\x1b[2K\x1b[1mjacky> \x1b[0mhéllo 世界\r\x1b[9C");

  const screen = new VirtualScreen(80);
  screen.write("garbage that was on the row");
  screen.write(drawn);
  assert.equal(screen.cursorLine(), "jacky> héllo 世界");
  assert.equal(screen.column, 9);

  const home = drawLine(layoutLine({ prompt: "", text: "x", cursor: 0 }, 80));
  assert.equal(home, "\r\x1b[2Kx\r", "no move for column 0");
});
