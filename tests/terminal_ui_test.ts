/**
 * The client's terminal interface, in-process against a fake terminal (see
 * `support/virtual_screen.ts`): what is on the screen after each key, how
 * lines printed mid-typing leave the typed line alone, the hidden password,
 * Ctrl-C and Ctrl-D, and the terminal put back on every exit path. The last
 * tests run whole sessions against the real server on loopback.
 */

import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { type InputKind, runClient } from "../lib/client/mod.ts";
import { EXIT_INTERRUPTED } from "../lib/errors.ts";
import { startServer } from "../lib/server/mod.ts";
import { TerminalUI } from "../lib/terminal/terminal_ui.ts";
import { loadUsers } from "../lib/server/users_file.ts";
import { FakeTerminal } from "./support/virtual_screen.ts";
import { USERS_FILE } from "./support/processes.ts";

const LEFT = "\x1b[D";
const UP = "\x1b[A";
const BACKSPACE = "\x7f";
const CTRL_C = "\x03";
const CTRL_D = "\x04";
const AT = new Date(2024, 1, 23, 14, 5);

/** Polls `condition` until it holds; fails after `timeoutMs`. */
async function waitFor(
  condition: () => boolean,
  what: () => string,
  timeoutMs = 3_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what()}`);
    await delay(5);
  }
}

/** A terminal UI on a fake terminal, with a fixed clock. */
function setUp(options: ConstructorParameters<typeof FakeTerminal>[0] = {}) {
  const terminal = new FakeTerminal(options);
  const ui = new TerminalUI(terminal, { now: () => AT });
  return { terminal, ui };
}

/** Waits until the cursor's row reads `expected`. */
async function rowShows(terminal: FakeTerminal, expected: string) {
  await waitFor(
    () => terminal.screen.cursorLine() === expected,
    () => `row ${JSON.stringify(expected)}; screen:\n${terminal.screen.text()}`,
  );
}

/** Logs in as `user` through the prompts (no server: just the UI). */
async function enterUser(ui: TerminalUI, terminal: FakeTerminal, user: string) {
  const name = ui.readLine("user");
  terminal.type(`${user}\r`);
  assert.equal(await name, user);
}

Deno.test("terminal UI: prompts on the editing row, entered lines stay on screen", async () => {
  const { terminal, ui } = setUp();
  const name = ui.readLine("user");
  await rowShows(terminal, "Please input your user name:");
  terminal.type("jacky");
  await rowShows(terminal, "Please input your user name: jacky");
  assert.equal(terminal.screen.column, 34);
  terminal.type("\r");
  assert.equal(await name, "jacky");
  assert.deepEqual(terminal.screen.lines(), [
    "Please input your user name: jacky",
    "",
  ]);
  ui.close();
});

Deno.test("terminal UI: the password is never shown, not even as stars", async () => {
  const { terminal, ui } = setUp({ colour: true });
  await enterUser(ui, terminal, "jacky");
  const password = ui.readLine("password");
  await rowShows(terminal, "Please input your password:");
  terminal.type("s3cr3t-Pa55");
  terminal.type(`${LEFT}${LEFT}${BACKSPACE}a`);
  await terminal.inputTaken();
  assert.equal(terminal.screen.cursorLine(), "Please input your password:");
  assert.equal(terminal.screen.column, 28, "the cursor does not move");
  terminal.type("\r");
  assert.equal(await password, "s3cr3t-Pa55");
  for (const text of [terminal.written.out, terminal.written.err]) {
    assert.ok(!text.includes("s3cr3t"), "the password was written");
    assert.ok(!text.includes("*"), "stars were written");
  }
  assert.deepEqual(terminal.screen.lines().slice(0, 2), [
    "Please input your user name: jacky",
    "Please input your password:",
  ]);
  ui.close();
});

Deno.test("terminal UI: a line arriving mid-typing is printed above, the typed line and cursor kept", async () => {
  const { terminal, ui } = setUp({ colour: true });
  await enterUser(ui, terminal, "jacky");
  const command = ui.readLine("command");
  terminal.type(`/to bob héllo 世界${LEFT}${LEFT}`);
  await rowShows(terminal, "jacky> /to bob héllo 世界");
  const column = terminal.screen.column;
  assert.equal(column, 7 + 14, "before 世");

  ui.showIncoming("/from bob Are you there?");
  ui.showIncoming("/broadcastfrom michael Lunch at 1?");
  ui.showReply("303 Message delivery successful");
  ui.showError("error: something to say");
  ui.showTrace("00:12 SERVER(b): /from bob Are you there?");
  const lines = terminal.screen.lines();
  assert.deepEqual(lines.slice(1), [
    "[14:05] bob: Are you there?",
    "[14:05] michael (to all): Lunch at 1?",
    "303 Message delivery successful",
    "error: something to say",
    "00:12 SERVER(b): /from bob Are you there?",
    "jacky> /to bob héllo 世界",
  ]);
  assert.equal(terminal.screen.column, column, "the cursor is where it was");

  terminal.type("X\r");
  assert.equal(await command, "/to bob héllo X世界");
  ui.close();
});

Deno.test("terminal UI: Up recalls earlier commands, Down comes back", async () => {
  const { terminal, ui } = setUp();
  await enterUser(ui, terminal, "jacky");
  let command = ui.readLine("command");
  terminal.type("/list\r");
  assert.equal(await command, "/list");
  command = ui.readLine("command");
  terminal.type("/to bob hi\r");
  assert.equal(await command, "/to bob hi");

  command = ui.readLine("command");
  terminal.type("draft");
  terminal.type(UP);
  await rowShows(terminal, "jacky> /to bob hi");
  terminal.type(UP);
  await rowShows(terminal, "jacky> /list");
  terminal.type("\x1b[B\x1b[B");
  await rowShows(terminal, "jacky> draft");
  terminal.type(`${UP}${UP}\r`);
  assert.equal(await command, "/list");
  ui.close();
});

Deno.test("terminal UI: Ctrl-C ends input; a second Ctrl-C asks to quit at once", async () => {
  const { terminal, ui } = setUp();
  await enterUser(ui, terminal, "jacky");
  const command = ui.readLine("command");
  terminal.type("half typed");
  terminal.type(CTRL_C);
  assert.equal(await command, null);
  assert.ok(terminal.screen.lines().includes("jacky> half typed^C"));
  ui.showAutoCommand("/exit");
  assert.ok(terminal.screen.lines().includes("jacky> /exit"));
  assert.equal(await ui.readLine("command"), null, "input stays ended");

  let quit = false;
  ui.quit.then(() => quit = true);
  terminal.type(CTRL_C);
  await waitFor(() => quit, () => "quit after the second Ctrl-C");
  ui.close();
});

Deno.test("terminal UI: SIGINT and SIGTERM act as Ctrl-C, SIGHUP quits", async () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const { terminal, ui } = setUp();
    await enterUser(ui, terminal, "jacky");
    const command = ui.readLine("command");
    await rowShows(terminal, "jacky>");
    terminal.signal(signal);
    assert.equal(await command, null, signal);
    let quit = false;
    ui.quit.then(() => quit = true);
    terminal.signal(signal);
    await waitFor(() => quit, () => `quit after a second ${signal}`);
    ui.close();
  }
  const { terminal, ui } = setUp();
  const name = ui.readLine("user");
  let quit = false;
  ui.quit.then(() => quit = true);
  terminal.signal("SIGHUP");
  await waitFor(() => quit, () => "quit on SIGHUP");
  ui.close();
  assert.equal(await name, null);
});

Deno.test("terminal UI: Ctrl-D ends input on an empty line, deletes otherwise", async () => {
  const { terminal, ui } = setUp();
  await enterUser(ui, terminal, "jacky");
  const command = ui.readLine("command");
  terminal.type(`abc${LEFT}${CTRL_D}`);
  await rowShows(terminal, "jacky> ab");
  terminal.type(`\x15${CTRL_D}`);
  assert.equal(await command, null);
  ui.close();
});

Deno.test("terminal UI: lines entered ahead are read in order, even after Ctrl-D", async () => {
  const { terminal, ui } = setUp();
  await enterUser(ui, terminal, "jacky");
  const first = ui.readLine("command");
  terminal.type(`/list\r/to bob one\r/to bob two\r${CTRL_D}`);
  assert.equal(await first, "/list");
  assert.equal(await ui.readLine("command"), "/to bob one");
  assert.equal(await ui.readLine("command"), "/to bob two");
  assert.equal(await ui.readLine("command"), null);
  ui.close();
});

Deno.test("terminal UI: keys typed while logging in wait for the next prompt", async () => {
  const { terminal, ui } = setUp();
  const name = ui.readLine("user");
  terminal.type("jacky\rs3cr3t\r");
  assert.equal(await name, "jacky");
  await terminal.inputTaken();
  assert.equal(terminal.screen.cursorLine(), "", "no prompt while busy");
  assert.equal(await ui.readLine("password"), "s3cr3t");
  assert.ok(!terminal.written.out.includes("s3cr3t"));
  ui.close();
});

Deno.test("terminal UI: a line over 65,536 bytes is not sent", async () => {
  const { terminal, ui } = setUp();
  await enterUser(ui, terminal, "jacky");
  const command = ui.readLine("command");
  terminal.type(`/toall ${"x".repeat(65_536)}\r`);
  await waitFor(
    () => terminal.written.err.includes("longer than 65536 bytes"),
    () => "the error line",
  );
  terminal.type("/list\r");
  assert.equal(await command, "/list");
  ui.close();
});

Deno.test("terminal UI: a narrower terminal (SIGWINCH) redraws the row to fit", async () => {
  const { terminal, ui } = setUp({ columns: 40 });
  await enterUser(ui, terminal, "jacky");
  const command = ui.readLine("command");
  terminal.type("/toall " + "abcdefghij".repeat(5));
  await waitFor(
    () => terminal.screen.cursorLine().endsWith("hij"),
    () => terminal.screen.text(),
  );
  assert.ok(terminal.screen.column <= 39);
  terminal.screen.columns = 20;
  terminal.signal("SIGWINCH");
  assert.ok(terminal.screen.cursorLine().length <= 19);
  assert.ok(terminal.screen.cursorLine().startsWith("jacky> "));
  assert.ok(terminal.screen.column <= 19);
  terminal.type("\r");
  assert.equal(await command, "/toall " + "abcdefghij".repeat(5));
  ui.close();
});

Deno.test("terminal UI: colour only when the device allows it", async () => {
  for (const colour of [true, false]) {
    const { terminal, ui } = setUp({ colour });
    await enterUser(ui, terminal, "jacky");
    ui.showIncoming("/from bob hi");
    ui.showReply("304 Message delivery failed");
    assert.equal(
      terminal.written.out.includes("\x1b[0m"),
      colour,
      `colour ${colour}`,
    );
    ui.close();
  }
});

Deno.test("terminal UI: standard output not a terminal gets plain lines, no escapes", async () => {
  const { terminal, ui } = setUp({ outIsTerminal: false, colour: false });
  await enterUser(ui, terminal, "jacky");
  const command = ui.readLine("command");
  terminal.type("/li");
  await rowShows(terminal, "jacky> /li");
  ui.showIncoming("/from bob hi");
  ui.showReply("301 jacky bob");
  assert.equal(terminal.written.out, "[14:05] bob: hi\n301 jacky bob\n");
  // The editor lives on standard error, the terminal.
  assert.equal(terminal.screen.cursorLine(), "jacky> /li");
  terminal.type("st\r");
  assert.equal(await command, "/list");
  ui.close();
});

Deno.test("terminal UI: close puts the terminal back, whatever the state", async () => {
  const cases: [string, (ui: TerminalUI, t: FakeTerminal) => Promise<void>][] =
    [
      ["never used", () => Promise.resolve()],
      ["at a prompt", async (ui, t) => {
        ui.readLine("user");
        await rowShows(t, "Please input your user name:");
      }],
      ["mid-typing", async (ui, t) => {
        await enterUser(ui, t, "jacky");
        ui.readLine("command");
        t.type("abc");
        await rowShows(t, "jacky> abc");
      }],
      ["after Ctrl-C", async (ui, t) => {
        const line = ui.readLine("user");
        t.type(CTRL_C);
        await line;
      }],
      ["after the keyboard ended", async (ui, t) => {
        const line = ui.readLine("password" as InputKind);
        t.endInput();
        assert.equal(await line, null);
      }],
    ];
  for (const [what, run] of cases) {
    const { terminal, ui } = setUp();
    await run(ui, terminal);
    ui.close();
    ui.close();
    assert.equal(terminal.raw, false, what);
    assert.ok(terminal.rawChanges.length % 2 === 0, what);
    assert.equal(terminal.signalHandlers, 0, what);
    assert.equal(terminal.screen.cursorLine(), "", `${what}: row cleared`);
    terminal.endInput();
  }
});

/** Lines for a plain client, given one at a time by the test. */
class Keyboard implements AsyncIterable<string> {
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #ended = false;

  type(line: string): void {
    this.#lines.push(line);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      if (this.#lines.length > 0) {
        yield this.#lines.shift()!;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }
}

Deno.test("terminal client session: chat arrives mid-typing, the line is still sent, Ctrl-C leaves with 310", async () => {
  await using server = startServer(await loadUsers(USERS_FILE), {
    hostname: "127.0.0.1",
  });
  const address = { hostname: "127.0.0.1", port: server.port };

  const bobKeys = new Keyboard();
  const bobSaw: string[] = [];
  const bob = runClient(address, {
    input: bobKeys,
    output: (line) => bobSaw.push(line),
  });
  bobKeys.type("bob");
  bobKeys.type("bob123");
  await waitFor(
    () => bobSaw.includes("201 Build connection successful"),
    () => bobSaw.join("\n"),
  );

  const { terminal, ui } = setUp();
  const jacky = runClient(address, { ui });
  await rowShows(terminal, "Please input your user name:");
  terminal.type("jacky\r");
  await rowShows(terminal, "Please input your password:");
  terminal.type("12345\r");
  await rowShows(terminal, "jacky>");
  assert.equal(terminal.raw, true);

  terminal.type(`/to bob Hello! Nice to meet yu${LEFT}`);
  await rowShows(terminal, "jacky> /to bob Hello! Nice to meet yu");
  const column = terminal.screen.column;
  bobKeys.type("/to jacky Are you typing?");
  await waitFor(
    () => terminal.screen.lines().includes("[14:05] bob: Are you typing?"),
    () => terminal.screen.text(),
  );
  assert.equal(
    terminal.screen.cursorLine(),
    "jacky> /to bob Hello! Nice to meet yu",
  );
  assert.equal(terminal.screen.column, column);
  terminal.type("o\r");
  await waitFor(
    () => bobSaw.includes("/from jacky Hello! Nice to meet you"),
    () => bobSaw.join("\n"),
  );
  await waitFor(
    () => terminal.screen.lines().includes("303 Message delivery successful"),
    () => terminal.screen.text(),
  );

  terminal.type(CTRL_C);
  assert.equal(await jacky, 0);
  const lines = terminal.screen.lines();
  assert.deepEqual(lines.slice(lines.indexOf("jacky> ^C")), [
    "jacky> ^C",
    "jacky> /exit",
    "310 Bye bye",
    "",
  ]);
  assert.ok(!terminal.screen.text().includes("12345"));
  assert.equal(terminal.raw, false);
  terminal.endInput();

  bobKeys.end();
  assert.equal(await bob, 0);
});

Deno.test("terminal client session: a second Ctrl-C quits at once when the server does not answer", async () => {
  // A "server" that takes the connection and never says anything.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const { terminal, ui } = setUp();
  const client = runClient(
    { hostname: "127.0.0.1", port: listener.addr.port },
    {
      ui,
    },
  );
  const conn = await accepted;
  listener.close();
  try {
    await rowShows(terminal, "Please input your user name:");
    terminal.type("jacky\r12345\r");
    const buffer = new Uint8Array(64);
    const count = await conn.read(buffer);
    assert.equal(
      new TextDecoder().decode(buffer.subarray(0, count ?? 0)),
      "/login jacky 12345\n",
    );
    terminal.type(CTRL_C);
    await waitFor(
      () => terminal.screen.text().includes("^C"),
      () => terminal.screen.text(),
    );
    const started = performance.now();
    terminal.type(CTRL_C);
    assert.equal(await client, EXIT_INTERRUPTED);
    assert.ok(performance.now() - started < 1_000);
    assert.equal(terminal.raw, false);
    assert.equal(await conn.read(buffer), null, "the client closed La");
  } finally {
    conn.close();
    terminal.endInput();
  }
});
