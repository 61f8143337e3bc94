/**
 * The programs under test, run as processes of their own: started in a
 * process group of their own, their output collected, stopped (with every
 * child they started) when a check is done, and all of them stopped at once
 * when the run is interrupted.
 *
 * @module
 */

import { describeError } from "../../lib/errors.ts";
import { SILENCE, within } from "./wait.ts";

/** Output kept per stream; a program that prints more is cut. */
const KEPT_OUTPUT_CHARS = 256 * 1024;
/** Time a stopped program has to end on SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 1_000;
/**
 * Time the output of a program that has ended is still read: a process it
 * left behind outside its group may hold its output open.
 */
const OUTPUT_GRACE_MS = 1_000;

/** Every process started and not yet stopped, for an interrupted run. */
const running = new Set<TargetProcess>();

/** Options for {@linkcode TargetProcess.start}. */
export interface StartOptions {
  /** Whether standard input is a pipe the kit writes to (default false). */
  stdin?: boolean;
  /** Called with each complete line the program prints on stdout. */
  onStdoutLine?: (line: string) => void;
}

/** One stream's collected text. */
class Collected {
  text = "";
  #cut = false;
  #partial = "";
  readonly #onLine?: (line: string) => void;
  readonly #listeners = new Set<() => void>();

  constructor(onLine?: (line: string) => void) {
    this.#onLine = onLine;
  }

  add(chunk: string): void {
    if (this.text.length < KEPT_OUTPUT_CHARS) this.text += chunk;
    else this.#cut = true;
    if (this.#onLine) {
      const parts = (this.#partial + chunk).split("\n");
      this.#partial = parts.pop()!;
      for (const part of parts) this.#onLine(part);
    }
    for (const listener of this.#listeners) listener();
  }

  /** Hands out a started line not yet ended (a prompt), as a line. */
  flushPartial(): void {
    if (this.#partial === "" || !this.#onLine) return;
    this.#onLine(this.#partial);
    this.#partial = "";
  }

  end(): void {
    this.flushPartial();
    if (this.#cut) this.text += "\n(output cut)";
    for (const listener of this.#listeners) listener();
  }

  listen(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A program under test, running. */
export class TargetProcess {
  /** The command line, for messages. */
  readonly commandLine: string;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | undefined;
  readonly #stdout: Collected;
  readonly #stderr = new Collected();
  #status: Deno.CommandStatus | undefined;
  readonly #statusPromise: Promise<Deno.CommandStatus>;
  readonly #pumps: Promise<void>;
  readonly #readers: ReadableStreamDefaultReader<Uint8Array>[];
  #stopping: Promise<void> | undefined;

  private constructor(argv: string[], options: StartOptions) {
    this.commandLine = argv.join(" ");
    this.#stdout = new Collected(options.onStdoutLine);
    this.#child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      // A group of its own: stopping it stops whatever it started, and a
      // Ctrl-C in the kit's terminal reaches the kit alone.
      detached: true,
      // Python buffers its output into a pipe; a prompt must show at once.
      env: { PYTHONUNBUFFERED: "1", NO_COLOR: "1" },
    }).spawn();
    running.add(this);
    this.#stdin = options.stdin ? this.#child.stdin.getWriter() : undefined;
    this.#statusPromise = this.#child.status.then((status) => {
      this.#status = status;
      return status;
    });
    this.#readers = [
      this.#child.stdout.getReader(),
      this.#child.stderr.getReader(),
    ];
    this.#pumps = Promise.all([
      pump(this.#readers[0], this.#stdout),
      pump(this.#readers[1], this.#stderr),
    ]).then(() => {});
  }

  /**
   * Starts `argv`; throws an `Error` with a one-line message when it cannot
   * be started at all (no such program, not executable).
   */
  static start(argv: string[], options: StartOptions = {}): TargetProcess {
    try {
      return new TargetProcess(argv, options);
    } catch (error) {
      throw new Error(`cannot run ${argv[0]}: ${describeError(error)}`);
    }
  }

  /** How it ended, once it has. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Everything it printed on stdout so far. */
  get stdout(): string {
    return this.#stdout.text;
  }

  /** Everything it printed on stderr so far. */
  get stderr(): string {
    return this.#stderr.text;
  }

  /** How it ended, in words: `exited with code 1`, `killed by SIGSEGV`. */
  describeExit(): string {
    const status = this.#status;
    if (status === undefined) return "still running";
    if (status.signal !== null) return `killed by ${status.signal}`;
    return `exited with code ${status.code}`;
  }

  /** Writes to its standard input; false when it no longer reads it. */
  async write(text: string): Promise<boolean> {
    if (!this.#stdin) return false;
    try {
      await this.#stdin.write(new TextEncoder().encode(text));
      return true;
    } catch {
      return false;
    }
  }

  /** Closes its standard input: the program reads the end of its input. */
  async closeStdin(): Promise<void> {
    await this.#stdin?.close().catch(() => {});
  }

  /** Treats a prompt printed without a newline as a line of its own. */
  flushStdout(): void {
    this.#stdout.flushPartial();
  }

  /**
   * Waits until stdout, from character `from` on, contains `text`; resolves
   * to the index just past it, or `undefined` after `ms` or when it ends.
   */
  async waitForText(
    text: string,
    options: { from: number; ms: number; signal?: AbortSignal },
  ): Promise<number | undefined> {
    const found = () => {
      const at = this.#stdout.text.indexOf(text, options.from);
      return at < 0 ? undefined : at + text.length;
    };
    let stopListening = () => {};
    const seen = new Promise<number | undefined>((resolve) => {
      const check = () => {
        const at = found();
        if (at !== undefined || this.#status !== undefined) resolve(at);
      };
      stopListening = this.#stdout.listen(check);
      this.#statusPromise.then(() => this.#outputRead()).then(check);
      check();
    });
    try {
      const result = await within(seen, options.ms, options.signal);
      return result === SILENCE ? undefined : result;
    } finally {
      stopListening();
    }
  }

  /** Its exit status, or `undefined` if it still runs after `ms`. */
  async waitForExit(
    ms: number,
    signal?: AbortSignal,
  ): Promise<Deno.CommandStatus | undefined> {
    const ended = this.#statusPromise.then(async (status) => {
      await this.#outputRead();
      return status;
    });
    const result = await within(ended, ms, signal);
    return result === SILENCE ? undefined : result;
  }

  /**
   * Stops it and every process in its group: SIGTERM, then SIGKILL after a
   * grace period; resolves once it has ended and its output is read.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.closeStdin();
      if (this.#status === undefined) {
        this.#signalGroup("SIGTERM");
        if (await this.waitForExit(STOP_GRACE_MS) === undefined) {
          this.#signalGroup("SIGKILL");
        }
      }
      // Whatever it left behind in its group goes too.
      this.#signalGroup("SIGKILL");
      await this.#statusPromise;
      await this.#outputRead();
      for (const reader of this.#readers) await reader.cancel().catch(() => {});
      await this.#pumps;
      running.delete(this);
    })();
    return this.#stopping;
  }

  /** Waits a moment, after the end, for the rest of the output. */
  async #outputRead(): Promise<void> {
    await within(this.#pumps, OUTPUT_GRACE_MS);
  }

  #signalGroup(signal: Deno.Signal): void {
    try {
      Deno.kill(-this.#child.pid, signal);
    } catch {
      // The group is empty already, or there are no process groups (on
      // Windows): the program itself, then.
      try {
        if (this.#status === undefined) this.#child.kill(signal);
      } catch {
        // It has ended.
      }
    }
  }
}

async function pump(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  into: Collected,
): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      into.add(decoder.decode(value, { stream: true }));
    }
    into.add(decoder.decode());
  } catch {
    // The stream broke, or was given up on: what came is kept.
  } finally {
    into.end();
  }
}

/** Stops every process still running (after an interrupted run). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((process) => process.stop()));
}

/** The last `count` non-empty lines of `text`. */
export function lastLines(text: string, count: number): string[] {
  return text.split("\n").map((line) => line.trimEnd())
    .filter((line) => line !== "").slice(-count);
}

/**
 * Whether `text` holds a stack trace: Python's, Java's, JavaScript's, Go's
 * or Rust's panic, or a crash by signal.
 */
export function hasTraceback(text: string): boolean {
  return /Traceback \(most recent call last\)|^\s+at \S+\(|^\s+at .*:\d+:\d+\)?$|Exception in thread|^goroutine \d+|panicked at|Segmentation fault|core dumped/m
    .test(text);
}
