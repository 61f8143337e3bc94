/**
 * Real processes for end-to-end tests: the server and clients run as
 * `deno run` children (or as compiled binaries) with piped standard streams.
 *
 * Every process belongs to a {@linkcode ProcessScope}; disposing the scope
 * closes every stream, ends every process and awaits every status, so Deno's
 * resource and op sanitizers stay on. Waits are on conditions (a line on
 * stdout, an exit) with deadlines, never on fixed sleeps.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root, wherever the tests are run from. */
export const REPO_ROOT: string = fileURLToPath(
  new URL("../..", import.meta.url),
);

/** The entry scripts and the sample users file. */
export const SERVER_SCRIPT: string = join(REPO_ROOT, "server.ts");
/** The client's entry script. */
export const CLIENT_SCRIPT: string = join(REPO_ROOT, "client.ts");
/** The sample users file (jacky, bob, michael, alice, carol). */
export const USERS_FILE: string = join(REPO_ROOT, "users.txt");

/** The passwords in `users.txt`, written down independently of the code. */
export const PASSWORDS: Readonly<Record<string, string>> = {
  jacky: "12345",
  bob: "bob123",
  michael: "mic456",
  alice: "wonderland",
  carol: "c4r0l",
};

/** The client's prompts and the status lines, exactly as in the handout. */
export const USER_PROMPT = "Please input your user name:";
/** The password prompt. */
export const PASSWORD_PROMPT = "Please input your password:";
/** `101`. */
export const AUTH_OK = "101 Authentication successful";
/** `102`. */
export const AUTH_FAILED = "102 Authentication failed";
/** `201`. */
export const BUILD_OK = "201 Build connection successful";
/** `202`. */
export const BUILD_FAILED = "202 Build connection failed";
/** `303`. */
export const DELIVERED = "303 Message delivery successful";
/** `304`. */
export const NOT_DELIVERED = "304 Message delivery failed";
/** `310`. */
export const BYE = "310 Bye bye";

/** How long a freshly spawned `deno run` may take to get going. */
export const START_TIMEOUT_MS = 10_000;
/** Default deadline of {@linkcode TestProcess.waitForLine}. */
export const LINE_TIMEOUT_MS = 5_000;
/** Default deadline of {@linkcode TestProcess.waitForExit}. */
export const EXIT_TIMEOUT_MS = 5_000;

/** A line test: exact text, a pattern, or a function. */
export type LineMatcher = string | RegExp | ((line: string) => boolean);

/** How a process ended. */
export interface ExitResult {
  /** The exit code (128 + n when killed by signal n). */
  code: number;
  /** The signal that killed it, if any. */
  signal: Deno.Signal | null;
  /** Every line it printed on stdout. */
  stdout: string[];
  /** Everything it printed on stderr. */
  stderr: string;
  /** The lines of stderr, without a trailing empty one. */
  stderrLines: string[];
}

/** What to run. */
export interface SpawnOptions {
  /** A label for messages. */
  name: string;
  /** The program (default: the running `deno`). */
  command?: string;
  /** Its arguments. */
  args: string[];
  /** Whether stdin is a pipe the test writes to (default true). */
  stdin?: boolean;
}

const encoder = new TextEncoder();

function toPredicate(matcher: LineMatcher): (line: string) => boolean {
  if (typeof matcher === "string") return (line) => line === matcher;
  if (matcher instanceof RegExp) return (line) => matcher.test(line);
  return matcher;
}

function describeMatcher(matcher: LineMatcher): string {
  if (typeof matcher === "string") return JSON.stringify(matcher);
  if (matcher instanceof RegExp) return String(matcher);
  return matcher.name || "matching the predicate";
}

/** Splits text into lines, dropping the empty piece after a final `\n`. */
export function splitLines(text: string): string[] {
  const lines = text.split("\n").map((line) => line.replace(/\r$/, ""));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * One child process: stdin written line by line, stdout read line by line,
 * stderr collected.
 */
export class TestProcess {
  /** The label used in messages. */
  readonly name: string;
  /** Every stdout line received so far, in order. */
  readonly lines: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #stdinClosed = false;
  #cursor = 0;
  #stdoutEnded = false;
  #stderr = "";
  #status: Deno.CommandStatus | undefined;
  readonly #statusPromise: Promise<Deno.CommandStatus>;
  readonly #pumps: Promise<void>;
  readonly #listeners = new Set<() => void>();

  constructor(options: SpawnOptions) {
    this.name = options.name;
    const piped = options.stdin ?? true;
    this.#child = new Deno.Command(options.command ?? Deno.execPath(), {
      args: options.args,
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1" },
      stdin: piped ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = piped ? this.#child.stdin.getWriter() : undefined;
    this.#statusPromise = this.#child.status.then((status) => {
      this.#status = status;
      this.#notify();
      return status;
    });
    this.#pumps = Promise.all([this.#pumpStdout(), this.#pumpStderr()])
      .then(() => {});
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has ended. */
  get exited(): boolean {
    return this.#status !== undefined;
  }

  /** Everything printed on stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Writes `text` to stdin as is. */
  async write(text: string): Promise<void> {
    assert.ok(this.#writer, `${this.name}: stdin is not a pipe`);
    assert.ok(!this.#stdinClosed, `${this.name}: stdin is already closed`);
    await this.#writer.write(encoder.encode(text));
  }

  /** Writes one line (a `\n` is appended) to stdin. */
  async writeLine(line: string): Promise<void> {
    await this.write(`${line}\n`);
  }

  /** Closes stdin: the program sees end of input. */
  async closeStdin(): Promise<void> {
    if (!this.#writer || this.#stdinClosed) return;
    this.#stdinClosed = true;
    try {
      await this.#writer.close();
    } catch {
      // The program is gone and the pipe broke: nothing left to close.
      await this.#writer.abort().catch(() => {});
    }
  }

  /**
   * Resolves to the next stdout line (after the ones already consumed by
   * earlier waits) that matches; the lines before it are consumed too.
   * Rejects if none arrives within `timeoutMs` or stdout ends first.
   */
  waitForLine(
    matcher: LineMatcher,
    timeoutMs: number = LINE_TIMEOUT_MS,
  ): Promise<string> {
    const matches = toPredicate(matcher);
    return new Promise<string>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      const check = () => {
        while (this.#cursor < this.lines.length) {
          const line = this.lines[this.#cursor++];
          if (matches(line)) {
            finish();
            resolve(line);
            return;
          }
        }
        if (this.#stdoutEnded) {
          finish();
          reject(
            new Error(
              `${this.name}: stdout ended without a line ${
                describeMatcher(matcher)
              }\n${this.report()}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `${this.name}: no line ${
              describeMatcher(matcher)
            } within ${timeoutMs} ms\n${this.report()}`,
          ),
        );
      }, timeoutMs);
      this.#listeners.add(check);
      check();
    });
  }

  /** Whether any stdout line so far (consumed or not) matches. */
  hasLine(matcher: LineMatcher): boolean {
    return this.lines.some(toPredicate(matcher));
  }

  /** Sends a signal, unless the process has already ended. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.exited) return;
    try {
      this.#child.kill(signal);
    } catch (error) {
      // It may have ended between the check and the signal.
      if (!(error instanceof TypeError)) throw error;
    }
  }

  /**
   * Waits for the process to end (within `timeoutMs`) and for its stdout and
   * stderr to be read to the end.
   */
  async waitForExit(timeoutMs: number = EXIT_TIMEOUT_MS): Promise<ExitResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `${this.name}: still running after ${timeoutMs} ms\n${this.report()}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      const status = await Promise.race([this.#statusPromise, deadline]);
      await Promise.race([this.#pumps, deadline]);
      return {
        code: status.code,
        signal: status.signal,
        stdout: [...this.lines],
        stderr: this.#stderr,
        stderrLines: splitLines(this.#stderr),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /** A description of the process's output so far, for failure messages. */
  report(): string {
    const status = this.#status
      ? `exited with code ${this.#status.code}${
        this.#status.signal ? ` (${this.#status.signal})` : ""
      }`
      : "running";
    return [
      `--- ${this.name} (${status}) stdout:`,
      ...this.lines.map((line) => `  | ${line}`),
      `--- ${this.name} stderr:`,
      ...splitLines(this.#stderr).map((line) => `  | ${line}`),
    ].join("\n");
  }

  /**
   * Closes stdin, ends the process if it still runs (`SIGTERM`, then
   * `SIGKILL` after a grace period) and awaits its status and streams.
   */
  async dispose(graceMs = 2_000): Promise<void> {
    await this.closeStdin();
    if (!this.exited) {
      this.kill("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      await Promise.race([this.#statusPromise, grace]);
      clearTimeout(timer);
      this.kill("SIGKILL");
    }
    await this.#statusPromise;
    await this.#pumps;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  async #pumpStdout(): Promise<void> {
    let pending = "";
    try {
      for await (
        const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())
      ) {
        pending += chunk;
        const parts = pending.split("\n");
        pending = parts.pop()!;
        for (const part of parts) this.lines.push(part.replace(/\r$/, ""));
        this.#notify();
      }
    } finally {
      if (pending !== "") this.lines.push(pending);
      this.#stdoutEnded = true;
      this.#notify();
    }
  }

  async #pumpStderr(): Promise<void> {
    for await (
      const chunk of this.#child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      this.#stderr += chunk;
    }
  }
}

/** A running server and the port it reported. */
export class ServerProcess extends TestProcess {
  /** The port the server said it listens on. */
  port = 0;
}

/** A running client. */
export class ClientProcess extends TestProcess {
  /**
   * Logs in step by step as a user would: waits for each prompt, types the
   * answer, then waits for `101` and `201`.
   */
  async login(
    name: string,
    password: string = PASSWORDS[name],
  ): Promise<void> {
    await this.waitForLine(USER_PROMPT, START_TIMEOUT_MS);
    await this.writeLine(name);
    await this.waitForLine(PASSWORD_PROMPT);
    await this.writeLine(password);
    await this.waitForLine(AUTH_OK);
    await this.waitForLine(BUILD_OK);
  }

  /** Types `line` and resolves to the next line starting with `reply`. */
  async command(line: string, reply: string | RegExp): Promise<string> {
    await this.writeLine(line);
    return await this.waitForLine(
      typeof reply === "string" ? (l) => l.startsWith(reply) : reply,
    );
  }
}

/** How to run the programs: as scripts (default) or as compiled binaries. */
export interface Programs {
  /** Command and leading arguments of the server. */
  server: string[];
  /** Command and leading arguments of the client. */
  client: string[];
}

/** The scripts under `deno run`, with exactly the documented permissions. */
export const SCRIPTS: Programs = {
  server: [
    Deno.execPath(),
    "run",
    "--allow-net",
    "--allow-read",
    SERVER_SCRIPT,
  ],
  client: [Deno.execPath(), "run", "--allow-net", CLIENT_SCRIPT],
};

/** Collects processes and ends them all when disposed. */
export class ProcessScope {
  readonly #processes: TestProcess[] = [];
  readonly #programs: Programs;

  constructor(programs: Programs = SCRIPTS) {
    this.#programs = programs;
  }

  /** Spawns the server with `args` as is (for argument checks). */
  spawnServer(args: string[], stdin = false): ServerProcess {
    const [command, ...lead] = this.#programs.server;
    return this.#track(
      new ServerProcess({
        name: "server",
        command,
        args: [...lead, ...args],
        stdin,
      }),
    );
  }

  /** Spawns the client with `args` as is (for argument checks). */
  spawnClient(args: string[], name = "client"): ClientProcess {
    const [command, ...lead] = this.#programs.client;
    return this.#track(
      new ClientProcess({ name, command, args: [...lead, ...args] }),
    );
  }

  /**
   * Starts the server on a free port with `usersFile` and waits for its first
   * stdout line, which must name the port it listens on.
   */
  async startServer(usersFile: string = USERS_FILE): Promise<ServerProcess> {
    const server = this.spawnServer(["0", usersFile]);
    const first = await server.waitForLine(() => true, START_TIMEOUT_MS);
    const port = Number(first.match(/:(\d{1,5})\b/)?.[1]);
    assert.ok(
      Number.isInteger(port) && port > 0 && port <= 65535,
      `the server's first line names no port: ${JSON.stringify(first)}`,
    );
    server.port = port;
    return server;
  }

  /** Starts a client aimed at `port` on `hostname`. */
  startClient(
    port: number,
    name = "client",
    hostname = "127.0.0.1",
  ): ClientProcess {
    return this.spawnClient([hostname, String(port)], name);
  }

  /** Ends every process (clients first, concurrently) and awaits them. */
  async dispose(): Promise<void> {
    const all = this.#processes.splice(0);
    const clients = all.filter((p) => !(p instanceof ServerProcess));
    const servers = all.filter((p) => p instanceof ServerProcess);
    await Promise.all(clients.map((p) => p.dispose()));
    await Promise.all(servers.map((p) => p.dispose()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #track<T extends TestProcess>(process: T): T {
    this.#processes.push(process);
    return process;
  }
}

/** Asserts that `text` shows no JavaScript stack trace. */
export function assertNoStackTrace(text: string, who: string): void {
  assert.ok(
    !text.includes("    at "),
    `${who} printed a stack trace:\n${text}`,
  );
}

/**
 * Asserts that stderr is exactly one non-empty line without a stack trace,
 * and returns that line.
 */
export function assertOneLine(result: ExitResult, who: string): string {
  assertNoStackTrace(result.stderr, who);
  assert.equal(
    result.stderrLines.length,
    1,
    `${who}: expected one line on stderr, got ${result.stderrLines.length}:\n${result.stderr}`,
  );
  assert.ok(result.stderrLines[0].trim() !== "", `${who}: empty error line`);
  return result.stderrLines[0];
}

/**
 * Makes a scratch directory in the system's temporary directory. Remove it
 * with {@linkcode removeScratchDir}.
 */
export function makeScratchDir(prefix: string): Promise<string> {
  return Deno.makeTempDir({ prefix });
}

/** Removes a directory made by {@linkcode makeScratchDir}. */
export function removeScratchDir(dir: string): Promise<void> {
  return Deno.remove(dir, { recursive: true });
}

/** A loopback port that nothing listens on (it was free a moment ago). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
