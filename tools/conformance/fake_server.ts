/**
 * The server a client check plays: it listens where the client under test
 * is told to connect, takes its La, connects its Lb, and says whatever the
 * check scripts, including what a good server never would. It types into
 * the client's standard input and watches what the client prints, recording
 * all of it in the check's dialog.
 *
 * @module
 */

import { describeError } from "../../lib/errors.ts";
import {
  AUTH_SUCCESSFUL,
  BUILD_SUCCESSFUL,
  formatLogin,
  formatPort,
} from "../../lib/protocol.ts";
import { CheckFailure } from "./check.ts";
import { type Dialog, displayLine } from "./dialog.ts";
import { hasTraceback, lastLines, TargetProcess } from "./process.ts";
import type { CheckClock } from "./runner.ts";
import { fillPlaceholders } from "./server_target.ts";
import { formatMs, SILENCE, within } from "./wait.ts";
import { KitLink, WAIT_MS } from "./wire.ts";

/** Who the client is, in the dialog. */
const CLIENT = "client";
/** The user the client logs in as. */
export const USER = { name: "jacky", password: "12345" };
/** The prefix of the handout's `/login` and `/port` lines. */
const LOGIN_WORD = formatLogin("", "").split(" ")[0];
const PORT_WORD = formatPort(0).split(" ")[0];

/** Options for {@linkcode ClientCheckContext}. */
export interface ClientContextOptions {
  /** The command that starts the client, with `{host}` and `{port}`. */
  command: readonly string[];
  /** The check's clock. */
  clock: CheckClock;
  /** Time the client has to start and connect. */
  startupMs: number;
}

/** What a client check works with: the client, the kit as its server. */
export class ClientCheckContext {
  /** The check's dialog. */
  readonly dialog: Dialog;
  /** Aborts when the check's time is up. */
  readonly signal: AbortSignal;
  /** Time the client has to start, in milliseconds. */
  readonly startupMs: number;
  readonly #options: ClientContextOptions;
  readonly #sessions: FakeSession[] = [];

  /** A context for one check. */
  constructor(options: ClientContextOptions) {
    this.#options = options;
    this.dialog = options.clock.dialog;
    this.signal = options.clock.signal;
    this.startupMs = options.startupMs;
  }

  /**
   * Starts the client, aimed at a listening fake server (or, with
   * `listen: false`, at a port where nothing listens).
   */
  launch(options: { listen?: boolean } = {}): FakeSession {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    if (options.listen === false) listener.close();
    const argv = fillPlaceholders(this.#options.command, {
      host: "127.0.0.1",
      port: String(port),
    });
    const client = TargetProcess.start(argv, {
      stdin: true,
      onStdoutLine: (line) => this.dialog.shown(CLIENT, line),
    });
    this.dialog.note(CLIENT, `started: ${argv.join(" ")}`);
    const session = new FakeSession(
      client,
      options.listen === false ? undefined : listener,
      this,
    );
    this.#sessions.push(session);
    return session;
  }

  /** Starts the check's time, once the client is up. */
  startClock(): void {
    this.#options.clock.start();
  }

  /** Stops every client and closes every link. */
  async close(): Promise<void> {
    await Promise.all(this.#sessions.map((session) => session.close()));
  }

  /** What the clients printed, for a failure. */
  output(): string[] {
    return this.#sessions.flatMap((session) => session.output());
  }
}

/** One run of the client under test, and the kit's side of its links. */
export class FakeSession {
  /** The client's process. */
  readonly client: TargetProcess;
  readonly #listener: Deno.TcpListener | undefined;
  readonly #context: ClientCheckContext;
  #la: KitLink | undefined;
  #lb: KitLink | undefined;
  #seen = 0;

  /** Wraps a started client. */
  constructor(
    client: TargetProcess,
    listener: Deno.TcpListener | undefined,
    context: ClientCheckContext,
  ) {
    this.client = client;
    this.#listener = listener;
    this.#context = context;
  }

  /** La, once accepted. */
  get la(): KitLink {
    if (!this.#la) throw new CheckFailure("the client has not connected");
    return this.#la;
  }

  /** Lb, once connected. */
  get lb(): KitLink {
    if (!this.#lb) throw new CheckFailure("link Lb is not built");
    return this.#lb;
  }

  /** Types `command` and waits for the client to send it on La as typed. */
  async command(command: string): Promise<void> {
    await this.type(command);
    await this.la.expect(command);
  }

  /** Types `lines` into the client, each followed by Enter. */
  async type(...lines: string[]): Promise<void> {
    this.client.flushStdout();
    for (const line of lines) {
      this.#context.dialog.typed(CLIENT, line);
      await this.client.write(`${line}\n`);
    }
  }

  /** Ends the client's input, as Ctrl-D would. */
  async endInput(): Promise<void> {
    this.#context.dialog.note(CLIENT, "standard input closed");
    await this.client.closeStdin();
  }

  /** Waits for the client's connection (La) and starts the check's time. */
  async acceptLa(): Promise<KitLink> {
    const listener = this.#listener!;
    const accepted = listener.accept();
    accepted.catch(() => {});
    const settled = new AbortController();
    const stop = AbortSignal.any([settled.signal, this.#context.signal]);
    const exited = this.client.waitForExit(this.#context.startupMs, stop)
      .then(() => undefined);
    const conn = await within(
      Promise.race([accepted, exited]),
      this.#context.startupMs,
      this.#context.signal,
    );
    settled.abort();
    listener.close();
    if (conn === SILENCE || conn === undefined) {
      this.client.flushStdout();
      const why = conn === undefined
        ? `the client ${this.client.describeExit()} before connecting`
        : `the client did not connect within ${
          formatMs(this.#context.startupMs)
        }`;
      throw new CheckFailure(why);
    }
    this.#la = new KitLink(conn, {
      dialog: this.#context.dialog,
      who: CLIENT,
      link: "a",
      kit: "SERVER",
      signal: this.#context.signal,
    });
    this.#context.startClock();
    return this.#la;
  }

  /** Connects Lb to the client's address at `port`. */
  async connectLb(port: number): Promise<KitLink> {
    const hostname = this.la.remoteAddr.hostname;
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port });
    } catch (error) {
      throw new CheckFailure(
        `cannot connect Lb to the client at ${hostname}:${port}: ${
          describeError(error)
        }`,
        {
          expected: `the client listening at ${hostname}:${port}`,
          got: describeError(error),
        },
      );
    }
    this.#context.dialog.note(CLIENT, `Lb connected to ${hostname}:${port}`);
    this.#lb = new KitLink(conn, {
      dialog: this.#context.dialog,
      who: CLIENT,
      link: "b",
      kit: "SERVER",
      signal: this.#context.signal,
    });
    return this.#lb;
  }

  /**
   * The usual start, taken leniently: types the user name and password,
   * takes any `/login` line and answers `101`, takes any `/port` line with
   * a number in it, connects Lb there and answers `201`.
   */
  async logIn(): Promise<void> {
    await this.type(USER.name, USER.password);
    await this.acceptLa();
    await this.la.expectThat(
      (line) => line.startsWith(LOGIN_WORD),
      `CLIENT(a): ${formatLogin(USER.name, USER.password)}`,
    );
    await this.la.send(AUTH_SUCCESSFUL);
    const port = await this.la.expectThat(
      (line) => line.startsWith(PORT_WORD) && /\d+/.test(line),
      "CLIENT(a): /port N",
    );
    await this.connectLb(Number(port.match(/\d+/)![0]));
    await this.la.send(BUILD_SUCCESSFUL);
  }

  /**
   * Waits until the client has printed `text` (after what earlier waits
   * consumed); fails with what it printed instead.
   */
  async expectShown(text: string, ms: number = WAIT_MS): Promise<void> {
    const at = await this.client.waitForText(text, {
      from: this.#seen,
      ms,
      signal: this.#context.signal,
    });
    if (at !== undefined) {
      this.#seen = at;
      return;
    }
    this.client.flushStdout();
    const shown = lastLines(this.client.stdout.slice(this.#seen), 3);
    const got = this.client.status !== undefined
      ? `the client ${this.client.describeExit()}`
      : shown.length > 0
      ? `it showed: ${shown.map(displayLine).join(" / ")}`
      : `nothing shown within ${formatMs(ms)}`;
    throw new CheckFailure(
      `expected the client to show "${displayLine(text)}"; ${got}`,
      { expected: `shown: ${displayLine(text)}`, got },
    );
  }

  /** The client must exit within `ms`; resolves to its status. */
  async expectExit(
    why: string,
    ms: number = WAIT_MS,
  ): Promise<Deno.CommandStatus> {
    const status = await this.client.waitForExit(ms, this.#context.signal);
    if (status === undefined) {
      throw new CheckFailure(
        `the client was still running ${formatMs(ms)} after ${why}`,
        { expected: `the client quits after ${why}`, got: "still running" },
      );
    }
    this.client.flushStdout();
    this.#context.dialog.note(CLIENT, this.client.describeExit());
    return status;
  }

  /** The client must still be running. */
  expectRunning(after: string): void {
    if (this.client.status === undefined) return;
    this.client.flushStdout();
    throw new CheckFailure(
      `the client ${this.client.describeExit()} after ${after}`,
      { expected: "the client goes on", got: this.client.describeExit() },
    );
  }

  /** Fails if the client printed a stack trace. */
  expectNoTraceback(): void {
    if (hasTraceback(`${this.client.stdout}\n${this.client.stderr}`)) {
      throw new CheckFailure("the client printed a stack trace", {
        expected: "an error message of a line",
        got: "a stack trace",
      });
    }
  }

  /** Closes La and Lb from the server's side, as a server that died. */
  async closeLinks(): Promise<void> {
    this.#context.dialog.note(CLIENT, "the server closes La and Lb");
    await Promise.all([this.#la?.close(), this.#lb?.close()]);
  }

  /** What the client printed, last lines of each stream. */
  output(): string[] {
    return [
      ...lastLines(this.client.stderr, 15).map((line) => `stderr: ${line}`),
    ];
  }

  /** Stops the client and closes every link. */
  async close(): Promise<void> {
    try {
      this.#listener?.close();
    } catch {
      // Closed once La came.
    }
    await Promise.all([this.#la?.close(), this.#lb?.close()]);
    await this.client.stop();
  }
}
