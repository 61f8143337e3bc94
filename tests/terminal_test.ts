/**
 * The real `client.ts` in a real terminal: each test runs it in a tmux pane
 * (tmux from Debian's packages; `.ci/run` installs it when missing) against
 * a real server process, types with `send-keys` and reads the screen with
 * `capture-pane`, as a person would. Every wait polls the screen until a
 * condition holds, with a deadline.
 *
 * Without tmux these tests fail, saying so: they are never skipped.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import {
  CLIENT_SCRIPT,
  type ClientProcess,
  DELIVERED,
  makeScratchDir,
  ProcessScope,
  removeScratchDir,
  REPO_ROOT,
  START_TIMEOUT_MS,
} from "./support/processes.ts";
import { verifyPassword } from "../lib/server/credentials.ts";

/** A password that appears nowhere else, so finding it on screen means a leak. */
const SECRET = "Zebra-Quartz-42";
const USERS = `jacky ${SECRET}\nbob bob-pass\nmichael m1chael\n`;

const COLUMNS = 100;
const ROWS = 30;
const SCREEN_TIMEOUT_MS = 5_000;
const POLL_MS = 25;

const decoder = new TextDecoder();

/** Runs `tmux` with `args`; resolves to its standard output. */
async function tmux(args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("tmux", {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "tmux is not installed, and the terminal tests need it: " +
          "`apt-get install -y tmux` (.ci/run does this when it is missing)",
      );
    }
    throw error;
  }
  if (!output.success) {
    throw new Error(
      `tmux ${args.join(" ")} failed: ${decoder.decode(output.stderr)}`,
    );
  }
  return decoder.decode(output.stdout);
}

/** Quotes `word` for the shell that tmux runs the pane's command with. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One tmux server with one pane running a command; disposed with the test. */
class Pane {
  readonly #dir: string;
  readonly #socket: string;
  readonly #statusFile: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#socket = join(dir, "tmux.sock");
    this.#statusFile = join(dir, "status");
  }

  /** Starts `command` (with `env` added) in a fresh tmux server's pane. */
  static async start(
    command: string[],
    env: Record<string, string | undefined> = {},
  ): Promise<Pane> {
    const pane = new Pane(await makeScratchDir("im_tmux_"));
    const config = join(pane.#dir, "tmux.conf");
    await Deno.writeTextFile(
      config,
      [
        // The screen stays after the client exits, to be read.
        "set -g remain-on-exit on",
        "set -g status off",
        "set -g history-limit 10000",
        "",
      ].join("\n"),
    );
    const assignments = Object.entries(env).map(([name, value]) =>
      value === undefined ? `-u ${name}` : shellQuote(`${name}=${value}`)
    );
    // The shell, not tmux, waits for the command and writes down its exit
    // code (tmux 3.3 sometimes leaves a dead pane's process unreaped).
    const line = [
      "env",
      ...assignments,
      ...command.map(shellQuote),
      `; echo $? > ${shellQuote(pane.#statusFile)}`,
    ].join(" ");
    try {
      await pane.tmux([
        "-f",
        config,
        "new-session",
        "-d",
        "-s",
        "test",
        "-x",
        String(COLUMNS),
        "-y",
        String(ROWS),
        "-c",
        REPO_ROOT,
        line,
      ]);
    } catch (error) {
      await pane.dispose();
      throw error;
    }
    return pane;
  }

  tmux(args: string[]): Promise<string> {
    return tmux(["-u", "-S", this.#socket, ...args]);
  }

  /** Types `text` literally (no key names). */
  async type(text: string): Promise<void> {
    await this.tmux(["send-keys", "-t", "test", "-l", text]);
  }

  /** Presses keys by tmux name: `Enter`, `Left`, `Up`, `C-c`, `BSpace`… */
  async press(...keys: string[]): Promise<void> {
    await this.tmux(["send-keys", "-t", "test", ...keys]);
  }

  /**
   * Copies everything the pane prints from now on, escape sequences and
   * all, to a file; returns a reader of what was copied so far.
   */
  async recordOutput(): Promise<() => Promise<string>> {
    const file = join(this.#dir, "output");
    await Deno.writeTextFile(file, "");
    await this.tmux(["pipe-pane", "-t", "test", `cat >> ${shellQuote(file)}`]);
    return () => Deno.readTextFile(file);
  }

  /** The whole screen and its scrollback, one string per row, trailing blanks removed. */
  async screen(options: { escapes?: boolean } = {}): Promise<string[]> {
    const args = ["capture-pane", "-p", "-S", "-", "-t", "test"];
    if (options.escapes) args.push("-e");
    const text = await this.tmux(args);
    const lines = text.split("\n").map((line) => line.trimEnd());
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** The cursor's column and row. */
  async cursor(): Promise<{ x: number; y: number }> {
    const [x, y] = (await this.tmux([
      "display-message",
      "-p",
      "-t",
      "test",
      "#{cursor_x} #{cursor_y}",
    ])).trim().split(" ").map(Number);
    return { x, y };
  }

  /** The text of the cursor's row. */
  async cursorRow(): Promise<string> {
    const { y } = await this.cursor();
    const visible = (await this.tmux(["capture-pane", "-p", "-t", "test"]))
      .split("\n");
    return (visible[y] ?? "").trimEnd();
  }

  /** The command's exit code once it has ended, else `undefined`. */
  async exitCode(): Promise<number | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#statusFile);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
    return text.endsWith("\n") ? Number(text.trim()) : undefined;
  }

  /**
   * Polls the screen until `test` holds; fails with the screen after
   * `timeoutMs`.
   */
  async waitFor(
    what: string,
    test: (lines: string[]) => boolean | Promise<boolean>,
    timeoutMs = SCREEN_TIMEOUT_MS,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await this.screen();
      if (await test(lines)) return lines;
      if (Date.now() > deadline) {
        assert.fail(
          `no ${what} within ${timeoutMs} ms; the screen:\n` +
            lines.map((line) => `  | ${line}`).join("\n"),
        );
      }
      // Poll interval; the condition is checked again.
      await delay(POLL_MS);
    }
  }

  /** Waits until a row reads exactly `line`. */
  waitForLine(line: string, timeoutMs = SCREEN_TIMEOUT_MS): Promise<string[]> {
    return this.waitFor(
      JSON.stringify(line),
      (lines) => lines.includes(line),
      timeoutMs,
    );
  }

  /** Waits until the cursor's row reads exactly `row`. */
  async waitForRow(row: string): Promise<void> {
    await this.waitFor(
      `cursor row ${JSON.stringify(row)}`,
      async () => await this.cursorRow() === row,
    );
  }

  /** Waits for the command to end and returns its exit code. */
  async waitForExit(timeoutMs = SCREEN_TIMEOUT_MS): Promise<number> {
    let code: number | undefined;
    await this.waitFor("exit", async () => {
      code = await this.exitCode();
      return code !== undefined;
    }, timeoutMs);
    return code!;
  }

  async dispose(): Promise<void> {
    try {
      await this.tmux(["kill-server"]);
    } catch {
      // The server was never started or is already gone.
    }
    await removeScratchDir(this.#dir);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** A server with the test users, a piped bob, and a directory to clean up. */
async function setUp(scope: ProcessScope, dir: string) {
  const usersFile = join(dir, "users.txt");
  await Deno.writeTextFile(usersFile, USERS);
  const server = await scope.startServer(usersFile);
  const bob = scope.startClient(server.port, "bob");
  await bob.login("bob", "bob-pass");
  return { server, bob };
}

/** Starts the real client in a pane, aimed at `port`. */
function startClient(
  port: number,
  options: { args?: string[]; env?: Record<string, string | undefined> } = {},
): Promise<Pane> {
  return Pane.start(
    [
      Deno.execPath(),
      "run",
      "--allow-net",
      CLIENT_SCRIPT,
      ...options.args ?? [],
      "127.0.0.1",
      String(port),
    ],
    options.env ?? { NO_COLOR: "1" },
  );
}

/** Logs jacky in through the prompts, typing as a person would. */
async function logIn(pane: Pane): Promise<void> {
  await pane.waitForRow("Please input your user name:");
  await pane.type("jacky");
  await pane.press("Enter");
  await pane.waitForRow("Please input your password:");
  await pane.type(SECRET);
  await pane.press("Enter");
  await pane.waitForLine("201 Build connection successful", START_TIMEOUT_MS);
  await pane.waitForRow("jacky>");
}

/** Runs `body` with a scope, a scratch directory, and cleans both up. */
async function withSession(
  body: (scope: ProcessScope, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await makeScratchDir("im_terminal_");
  try {
    await using scope = new ProcessScope();
    await body(scope, dir);
  } finally {
    await removeScratchDir(dir);
  }
}

/** Bob's next incoming chat line. */
function bobReceives(bob: ClientProcess): Promise<string> {
  return bob.waitForLine(/^\/(from|broadcastfrom) /);
}

Deno.test("terminal: tmux is installed (the terminal tests need it)", async () => {
  const version = await tmux(["-V"]);
  assert.match(version, /^tmux /);
});

Deno.test("terminal: the password never appears on screen, even with --trace", async () => {
  await withSession(async (scope, dir) => {
    const { server } = await setUp(scope, dir);
    await using pane = await startClient(server.port, { args: ["--trace"] });
    await pane.waitForRow("Please input your user name:");
    await pane.type("jacky");
    await pane.press("Enter");
    await pane.waitForRow("Please input your password:");
    const output = await pane.recordOutput();

    // Typed and edited: nothing of it shows.
    await pane.type(SECRET + "X");
    await pane.press("BSpace", "Left", "Left", "Right", "Right", "Home", "End");
    await pane.press("Enter");
    await pane.waitForLine("201 Build connection successful", START_TIMEOUT_MS);
    // Everything printed while the password was typed and edited: up to the
    // trace of the /login line, which comes once Enter was taken.
    let printed = "";
    await pane.waitFor("the 201 in the pane's output", async () => {
      printed = await output();
      return printed.includes("201 Build connection successful");
    });
    const typing = printed.slice(0, printed.indexOf("CLIENT(a): /login"));
    assert.ok(
      !typing.includes("Zebra") && !typing.includes("*"),
      `printed while the password was typed: ${JSON.stringify(typing)}`,
    );
    assert.ok(!printed.includes("Zebra"), JSON.stringify(printed));

    const screen = await pane.screen();
    assert.ok(
      !screen.some((line) => line.includes(SECRET) || line.includes("Zebra")),
      `the password is on screen:\n${screen.join("\n")}`,
    );
    assert.ok(screen.includes("Please input your password:"));
    // The trace shows the login line, password hidden.
    assert.ok(
      screen.some((line) =>
        /^\d\d:\d\d CLIENT\(a\): \/login jacky \*{8}$/.test(line)
      ),
      screen.join("\n"),
    );
    assert.ok(
      screen.some((line) =>
        /^\d\d:\d\d SERVER\(a\): 101 Authentication successful$/.test(line)
      ),
    );

    await pane.type("/exit");
    await pane.press("Enter");
    assert.equal(await pane.waitForExit(), 0);
  });
});

Deno.test("terminal: a message arriving mid-typing leaves the typed line intact and sendable", async () => {
  await withSession(async (scope, dir) => {
    const { server, bob } = await setUp(scope, dir);
    // With colour, as a person's terminal has it.
    await using pane = await startClient(server.port, {
      env: { NO_COLOR: undefined },
    });
    await logIn(pane);

    await pane.type("/to bob Hello from the terminal");
    await pane.press(...Array(8).fill("Left"));
    await pane.waitForRow("jacky> /to bob Hello from the terminal");
    const cursor = await pane.cursor();
    assert.equal(cursor.x, "jacky> /to bob Hello from the ".length);

    assert.equal(await bob.command("/to jacky Hi, Jacky!", "30"), DELIVERED);
    await pane.waitFor(
      "bob's message",
      (lines) =>
        lines.some((line) => /^\[\d\d:\d\d\] bob: Hi, Jacky!$/.test(line)),
    );
    assert.equal(
      await pane.cursorRow(),
      "jacky> /to bob Hello from the terminal",
      "the typed line is intact",
    );
    assert.deepEqual(await pane.cursor(), {
      x: cursor.x,
      y: cursor.y + 1,
    }, "the cursor is where it was, one row down");
    const coloured = await pane.screen({ escapes: true });
    assert.ok(
      coloured.some((line) => line.includes("bob") && line.includes("\x1b[")),
      "chat is in colour",
    );

    // Typing goes on at the cursor, and the line is sent whole.
    await pane.type("real ");
    await pane.press("Enter");
    assert.equal(
      await bobReceives(bob),
      "/from jacky Hello from the real terminal",
    );
    const screen = await pane.waitForLine(DELIVERED);
    const sent = screen.indexOf("jacky> /to bob Hello from the real terminal");
    assert.ok(sent >= 0 && screen.indexOf(DELIVERED) > sent, screen.join("\n"));

    await pane.press("C-c");
    assert.equal(await pane.waitForExit(), 0);
  });
});

Deno.test("terminal: Up and Down recall earlier commands", async () => {
  await withSession(async (scope, dir) => {
    const { server, bob } = await setUp(scope, dir);
    await using pane = await startClient(server.port);
    await logIn(pane);

    await pane.type("/list");
    await pane.press("Enter");
    await pane.waitForLine("301 jacky bob");
    await pane.type("/to bob first");
    await pane.press("Enter");
    assert.equal(await bobReceives(bob), "/from jacky first");

    await pane.type("new");
    await pane.press("Up");
    await pane.waitForRow("jacky> /to bob first");
    await pane.press("Up");
    await pane.waitForRow("jacky> /list");
    await pane.press("Down", "Down");
    await pane.waitForRow("jacky> new");
    await pane.press("Up");
    await pane.waitForRow("jacky> /to bob first");
    await pane.press("BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
    await pane.type("again");
    await pane.press("Enter");
    assert.equal(await bobReceives(bob), "/from jacky again");

    await pane.press("Up", "Up", "Up", "Enter");
    await pane.waitFor(
      "a second 301",
      (lines) => lines.filter((line) => line === "301 jacky bob").length === 2,
    );
    await pane.press("C-c");
    assert.equal(await pane.waitForExit(), 0);
  });
});

Deno.test("terminal: Ctrl-C leaves with 310 Bye bye and exit code 0", async () => {
  await withSession(async (scope, dir) => {
    const { server, bob } = await setUp(scope, dir);
    await using pane = await startClient(server.port);
    await logIn(pane);

    await pane.type("never sent");
    await pane.press("C-c");
    const screen = await pane.waitForLine("310 Bye bye");
    const at = screen.indexOf("jacky> never sent^C");
    assert.ok(at >= 0, screen.join("\n"));
    assert.deepEqual(screen.slice(at, at + 3), [
      "jacky> never sent^C",
      "jacky> /exit",
      "310 Bye bye",
    ]);
    assert.equal(await pane.waitForExit(), 0);
    assert.equal(await bob.command("/list", "301"), "301 bob");
    assert.ok(!bob.hasLine("/from jacky never sent"));
  });
});

Deno.test("terminal: Ctrl-D on an empty line leaves with 310 Bye bye and exit code 0", async () => {
  await withSession(async (scope, dir) => {
    const { server } = await setUp(scope, dir);
    await using pane = await startClient(server.port);
    await logIn(pane);
    await pane.press("C-d");
    await pane.waitForLine("310 Bye bye");
    assert.equal(await pane.waitForExit(), 0);
  });
});

Deno.test("terminal: accents, CJK and emoji are edited a character at a time", async () => {
  await withSession(async (scope, dir) => {
    const { server, bob } = await setUp(scope, dir);
    await using pane = await startClient(server.port);
    await logIn(pane);

    const family = "\u{1F469}\u200D\u{1F469}\u200D\u{1F467}";
    await pane.type(`/to bob héllo 世界 ${family}!`);
    await pane.waitForRow(`jacky> /to bob héllo 世界 ${family}!`);
    // "jacky> /to bob héllo " is 21 columns, 世界 4, a space, the family 2.
    assert.equal((await pane.cursor()).x, 21 + 4 + 1 + 2 + 1);
    await pane.press("Left", "BSpace"); // the whole family goes
    await pane.waitForRow("jacky> /to bob héllo 世界 !");
    await pane.press("Left", "Left");
    assert.equal((await pane.cursor()).x, 21 + 2, "between 世 and 界");
    await pane.press("BSpace");
    await pane.type("地");
    await pane.waitForRow("jacky> /to bob héllo 地界 !");
    await pane.press("Home", ...Array(9).fill("Right"), "Delete");
    await pane.waitForRow("jacky> /to bob hllo 地界 !");
    await pane.type("ë");
    await pane.waitForRow("jacky> /to bob hëllo 地界 !");
    // An accent typed as a combining mark joins its letter: one Backspace
    // takes both.
    await pane.press("End");
    await pane.type(" xa\u0301");
    await pane.waitForRow("jacky> /to bob hëllo 地界 ! xa\u0301");
    await pane.press("BSpace");
    await pane.waitForRow("jacky> /to bob hëllo 地界 ! x");
    await pane.press("BSpace", "BSpace");
    await pane.type(" 👍");
    await pane.press("Enter");
    assert.equal(await bobReceives(bob), "/from jacky hëllo 地界 ! 👍");
    await pane.press("C-c");
    assert.equal(await pane.waitForExit(), 0);
  });
});

Deno.test("terminal: NO_COLOR turns colour off", async () => {
  await withSession(async (scope, dir) => {
    const { server, bob } = await setUp(scope, dir);
    await using pane = await startClient(server.port, {
      env: { NO_COLOR: "1" },
    });
    await logIn(pane);
    assert.equal(await bob.command("/toall Anyone?", "30"), DELIVERED);
    await pane.waitFor(
      "the broadcast",
      (lines) =>
        lines.some((line) =>
          /^\[\d\d:\d\d\] bob \(to all\): Anyone\?$/.test(line)
        ),
    );
    const screen = await pane.screen({ escapes: true });
    assert.ok(
      !screen.some((line) => line.includes("\x1b[")),
      screen.join("\n"),
    );
    await pane.press("C-c");
    assert.equal(await pane.waitForExit(), 0);
  });
});

Deno.test("terminal: hash-password reads the password twice without echo", async () => {
  const dir = await makeScratchDir("im_hash_");
  try {
    const output = join(dir, "line.txt");
    await using pane = await Pane.start([
      "sh",
      "-c",
      `${shellQuote(Deno.execPath())} run tools/hash_password.ts bob > ${
        shellQuote(output)
      }`,
    ]);
    const prompted = (prompt: string) => (lines: string[]) =>
      lines.some((line) => line.trimEnd() === prompt);
    await pane.waitFor("first prompt", prompted("Password:"), START_TIMEOUT_MS);
    await pane.type(SECRET);
    await pane.press("Enter");
    await pane.waitFor("second prompt", prompted("Password again:"));
    await pane.type(SECRET);
    await pane.press("Enter");
    assert.equal(await pane.waitForExit(), 0);
    const screen = await pane.screen();
    assert.ok(
      !screen.some((line) => line.includes(SECRET)),
      `the password was echoed:\n${screen.join("\n")}`,
    );
    const [name, stored] = (await Deno.readTextFile(output)).trim().split(" ");
    assert.equal(name, "bob");
    assert.ok(await verifyPassword(stored, SECRET), stored);
  } finally {
    await removeScratchDir(dir);
  }
});
