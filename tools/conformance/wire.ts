/**
 * One link as the kit holds it: lines sent and received over TCP, each
 * recorded in the check's dialog, and bounded expectations that fail the
 * check with the line expected and what came instead.
 *
 * @module
 */

import { describeError } from "../../lib/errors.ts";
import { LineConnection } from "../../lib/net/line_connection.ts";
import { LINE_TOO_LONG } from "../../lib/net/line_reader.ts";
import { hasStatusOf, statusCode } from "../../lib/protocol.ts";
import { CheckFailure } from "./check.ts";
import { type Dialog, displayLine } from "./dialog.ts";
import { formatMs, SILENCE, within } from "./wait.ts";

/** How long one expectation waits by default, in milliseconds. */
export const WAIT_MS = 5_000;

/** What a read resolves to when the other side has closed the link. */
export const CLOSED: unique symbol = Symbol("closed");

/** A read: a line, the link's end, or nothing in time. */
export type ReadResult = string | typeof CLOSED | typeof SILENCE;

// The kit reads whatever a target sends, exactly: a `\r` stays visible, a bad
// byte becomes U+FFFD, and lines far longer than the protocol's are taken.
const READ_OPTIONS = {
  maxLineBytes: 4 << 20,
  strictUtf8: false,
  keepCarriageReturn: true,
};

/** Options for {@linkcode KitLink}. */
export interface KitLinkOptions {
  /** Where the lines are recorded. */
  dialog: Dialog;
  /** The user (or program) the link belongs to, for the dialog. */
  who: string;
  /** `a` for La, `b` for Lb. */
  link: "a" | "b";
  /** The side the kit plays on this link. */
  kit: "CLIENT" | "SERVER";
  /** Ends every wait at once when it aborts: the check's time is up. */
  signal: AbortSignal;
  /** Record nothing (for links opened by the hundred). */
  quiet?: boolean;
  /** Called with each line received; a string it returns is sent back. */
  answer?: (line: string) => string | undefined;
}

/** A line-oriented TCP link held by the kit, recorded in a dialog. */
export class KitLink {
  readonly #conn: LineConnection;
  readonly #options: KitLinkOptions;
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  readonly #watchers = new Set<() => void>();
  #end: string | undefined;
  #writing: Promise<void> = Promise.resolve();
  readonly #pump: Promise<void>;

  /** Wraps an open connection and starts reading it. */
  constructor(conn: Deno.TcpConn, options: KitLinkOptions) {
    this.#conn = new LineConnection(conn, READ_OPTIONS);
    this.#options = options;
    this.#pump = this.#read();
  }

  /** The side at the other end: `SERVER` when the kit plays a client. */
  get peer(): "CLIENT" | "SERVER" {
    return this.#options.kit === "CLIENT" ? "SERVER" : "CLIENT";
  }

  /** `La` or `Lb`. */
  get name(): string {
    return `L${this.#options.link}`;
  }

  /** The address of the other end. */
  get remoteAddr(): Deno.NetAddr {
    return this.#conn.remoteAddr;
  }

  /** The address of the kit's end. */
  get localAddr(): Deno.NetAddr {
    return this.#conn.localAddr;
  }

  /** Whether the other side has closed the link (or it broke). */
  get ended(): boolean {
    return this.#end !== undefined;
  }

  /** A line as the Appendix writes it, from the other side of this link. */
  theirs(line: string): string {
    return `${this.peer}(${this.#options.link}): ${displayLine(line)}`;
  }

  async #read(): Promise<void> {
    let why = `the ${this.peer.toLowerCase()} closed ${this.name}`;
    try {
      await this.#conn.forEachLine((result) => {
        const line = result === LINE_TOO_LONG
          ? "(a line over 4 MiB)"
          : String(result);
        this.#record(this.peer, line);
        this.#lines.push(line);
        this.#notify();
        const answer = this.#options.answer?.(line);
        if (answer !== undefined) this.send(answer).catch(() => {});
      });
    } catch (error) {
      why = `${this.name}: ${describeError(error)}`;
    }
    if (this.#conn.closed) why = `${this.name} closed by the kit`;
    this.#end = why;
    this.#notify();
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = undefined;
    for (const watcher of this.#watchers) watcher();
  }

  /** Whether a read would not wait: a line is waiting, or the link ended. */
  get ready(): boolean {
    return this.#lines.length > 0 || this.#end !== undefined;
  }

  /** Calls `watcher` whenever a line arrives or the link ends. */
  watch(watcher: () => void): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  #record(from: "CLIENT" | "SERVER", line: string): void {
    if (this.#options.quiet) return;
    this.#options.dialog.wire(this.#options.who, {
      link: this.#options.link,
      from,
      line,
    });
  }

  /** Sends `line` and its `\n`; fails the check if the link is broken. */
  send(line: string): Promise<void> {
    this.#record(this.#options.kit, line);
    return this.#write(() => this.#conn.writeLine(line));
  }

  /** Sends raw bytes, recorded in the dialog as `shown`. */
  sendBytes(bytes: Uint8Array, shown: string): Promise<void> {
    this.#record(this.#options.kit, shown);
    return this.#write(() => this.#conn.write(bytes));
  }

  #write(write: () => Promise<void>): Promise<void> {
    const done = this.#writing.then(write).catch((error) => {
      throw new CheckFailure(
        `could not send on ${this.name}: ${describeError(error)}`,
      );
    });
    this.#writing = done.catch(() => {});
    return done;
  }

  /**
   * The next line received, {@linkcode CLOSED} once the other side has
   * closed the link, or {@linkcode SILENCE} when nothing came within `ms`
   * (or the check's time ran out).
   */
  async read(ms: number = WAIT_MS): Promise<ReadResult> {
    const deadline = performance.now() + ms;
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#end !== undefined) return CLOSED;
      const left = deadline - performance.now();
      if (left <= 0 || this.#options.signal.aborted) return SILENCE;
      const woken = new Promise<void>((resolve) => this.#wake = resolve);
      if (await within(woken, left, this.#options.signal) === SILENCE) {
        return SILENCE;
      }
    }
  }

  /** What a read that did not give a line means, for a report. */
  #missing(result: typeof CLOSED | typeof SILENCE, ms: number): string {
    if (result === CLOSED) return this.#end!;
    if (this.#options.signal.aborted) {
      return "nothing before the check's time ran out";
    }
    return `nothing within ${formatMs(ms)}`;
  }

  /** Reads the next line, which must be exactly `expected`. */
  async expect(expected: string, ms: number = WAIT_MS): Promise<string> {
    return await this.expectThat(
      (line) => line === expected,
      this.theirs(expected),
      ms,
    );
  }

  /**
   * Reads the next line, which must carry the status code of `reply`,
   * whatever its wording.
   */
  async expectStatus(reply: string, ms: number = WAIT_MS): Promise<string> {
    return await this.expectThat(
      (line) => hasStatusOf(line, reply),
      `${this.peer}(${this.#options.link}): ${statusCode(reply)} …`,
      ms,
    );
  }

  /** Reads the next line, which must pass `test`; `wanted` describes it. */
  async expectThat(
    test: (line: string) => boolean,
    wanted: string,
    ms: number = WAIT_MS,
  ): Promise<string> {
    const result = await this.read(ms);
    if (typeof result !== "string") {
      throw new CheckFailure(
        `expected ${wanted}; ${this.#missing(result, ms)}`,
        {
          expected: wanted,
          got: this.#missing(result, ms),
        },
      );
    }
    if (!test(result)) {
      throw new CheckFailure(
        `expected ${wanted}; came ${this.theirs(result)}`,
        {
          expected: wanted,
          got: this.theirs(result),
        },
      );
    }
    return result;
  }

  /** Reads the next line, whatever it is; fails on the link's end or silence. */
  async expectAny(what: string, ms: number = WAIT_MS): Promise<string> {
    return await this.expectThat(() => true, what, ms);
  }

  /** The other side must close the link within `ms`, sending nothing more. */
  async expectClosed(ms: number = WAIT_MS): Promise<void> {
    const result = await this.read(ms);
    if (result === CLOSED) return;
    const wanted = `the ${this.peer.toLowerCase()} to close ${this.name}`;
    const got = result === SILENCE
      ? `${this.name} still open after ${formatMs(ms)}`
      : this.theirs(result);
    throw new CheckFailure(`expected ${wanted}; ${got}`, {
      expected: wanted,
      got,
    });
  }

  /** Nothing may arrive for `ms`: fails if a line (or the end) comes. */
  async expectSilence(ms: number, why: string): Promise<void> {
    const result = await this.read(ms);
    if (result === SILENCE) return;
    const got = result === CLOSED ? this.#end! : this.theirs(result);
    throw new CheckFailure(`${why}; came ${got}`, {
      expected: `nothing on ${this.name} yet (${why})`,
      got,
    });
  }

  /** Closes the link from the kit's side; waits for reading to stop. */
  async close(): Promise<void> {
    this.#conn.close();
    await this.#writing;
    await this.#pump;
  }
}

/**
 * The first of `links` with a line waiting (or ended), or `undefined` when
 * none has one within `ms`: for receivers a server may serve in any order.
 */
export async function firstReady(
  links: readonly KitLink[],
  ms: number,
  signal: AbortSignal,
): Promise<KitLink | undefined> {
  const stops: (() => void)[] = [];
  try {
    const found = new Promise<KitLink>((resolve) => {
      const look = () => {
        const ready = links.find((link) => link.ready);
        if (ready) resolve(ready);
      };
      for (const link of links) stops.push(link.watch(look));
      look();
    });
    const ready = await within(found, ms, signal);
    return ready === SILENCE ? undefined : ready;
  } finally {
    for (const stop of stops) stop();
  }
}
