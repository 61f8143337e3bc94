/**
 * What a server check works with: clients played by the kit, each with its
 * La, its Lb listener and Lb, every line recorded in the check's dialog.
 *
 * Steps that lead up to what a check is about are taken leniently (a reply
 * counts by its status code), so that a check fails only for its own
 * subject; the check's subject itself is compared byte for byte.
 *
 * @module
 */

import { describeError } from "../../lib/errors.ts";
import {
  AUTH_SUCCESSFUL,
  BUILD_SUCCESSFUL,
  EXIT,
  formatLogin,
  formatPort,
  LIST,
  LIST_CODE,
  RECEIPT_SUCCESSFUL,
} from "../../lib/protocol.ts";
import { delay } from "../../lib/async/delay.ts";
import { type Check, CheckFailure, FreshTargetNeeded } from "./check.ts";
import type { Dialog } from "./dialog.ts";
import type { Address, ServerSource } from "./server_target.ts";
import type { Role, User, UserSource } from "./users.ts";
import { formatMs, SILENCE, within } from "./wait.ts";
import { CLOSED, KitLink, WAIT_MS } from "./wire.ts";

/** How long a check waits for the users of earlier checks to be gone. */
const ALONE_WAIT_MS = 500;

/** How a played client's Lb answers chat lines. */
export type Receipts = "answer" | "hold";

/** Options for {@linkcode ServerCheckContext.connect}. */
export interface ConnectOptions {
  /** Connect La to this address of the server's host instead. */
  via?: string;
  /** Record nothing in the dialog. */
  quiet?: boolean;
  /**
   * `answer` (default): Lb answers every line with `302`, whatever the line;
   * `hold`: Lb answers nothing by itself.
   */
  receipts?: Receipts;
}

/** A client played by the kit. */
export class Peer {
  /** Its user name and password. */
  readonly user: User;
  /** Its La. */
  readonly la: KitLink;
  readonly #context: ServerCheckContext;
  readonly #options: ConnectOptions;
  #lb: KitLink | undefined;
  #listener: Deno.TcpListener | undefined;

  /** Wraps an open La. */
  constructor(
    user: User,
    la: KitLink,
    context: ServerCheckContext,
    options: ConnectOptions,
  ) {
    this.user = user;
    this.la = la;
    this.#context = context;
    this.#options = options;
  }

  /** Its user name. */
  get name(): string {
    return this.user.name;
  }

  /** Its Lb, once the server has connected it. */
  get lb(): KitLink {
    if (!this.#lb) throw new CheckFailure(`${this.name} has no link Lb`);
    return this.#lb;
  }

  /** Sends `/login` with its name and password; `101` expected by code. */
  async logIn(): Promise<void> {
    await this.la.send(formatLogin(this.user.name, this.user.password));
    await this.la.expectStatus(AUTH_SUCCESSFUL);
  }

  /**
   * Listens for Lb on La's local address (the client's address, as the
   * server sees it) and returns the port; the first connection becomes Lb.
   */
  listen(): { port: number; accepted: Promise<KitLink> } {
    const listener = Deno.listen({
      hostname: this.la.localAddr.hostname,
      port: 0,
    });
    this.#listener = listener;
    const accepted = listener.accept().then((conn) => {
      this.#closeListener();
      const lb = new KitLink(conn, {
        dialog: this.#context.dialog,
        who: this.name,
        link: "b",
        kit: "CLIENT",
        signal: this.#context.signal,
        quiet: this.#options.quiet,
        answer: this.#options.receipts === "hold"
          ? undefined
          : () => RECEIPT_SUCCESSFUL,
      });
      this.#lb = lb;
      return lb;
    });
    accepted.catch(() => {});
    return { port: listener.addr.port, accepted };
  }

  /** Waits for the server's Lb connection that `listen` is waiting for. */
  async acceptLb(
    accepted: Promise<KitLink>,
    ms: number = WAIT_MS,
  ): Promise<KitLink> {
    const lb = await within(accepted.catch(() => undefined), ms);
    if (lb === SILENCE || lb === undefined) {
      const where = `${this.la.localAddr.hostname}`;
      throw new CheckFailure(
        `the server did not connect Lb to ${this.name}'s address ${where} within ${
          formatMs(ms)
        }`,
        {
          expected: `a connection to ${where} (the client's address)`,
          got: `none within ${formatMs(ms)}`,
        },
      );
    }
    return lb;
  }

  /** Listens, sends `/port N`, expects `201` by code and the connection. */
  async buildLb(): Promise<void> {
    const { port, accepted } = this.listen();
    await this.la.send(formatPort(port));
    await this.la.expectStatus(BUILD_SUCCESSFUL);
    await this.acceptLb(accepted);
  }

  /** Leaves politely: `/exit`, then waits a moment for the server to close. */
  async leave(): Promise<void> {
    if (this.la.ended) return;
    try {
      await this.la.send(EXIT);
      // Its reply, then the end of La; a few stray lines at most.
      for (let lines = 0; lines < 5; lines++) {
        const result = await this.la.read(1000);
        if (result === CLOSED || result === SILENCE) break;
      }
    } catch {
      // The server is gone already.
    }
  }

  #closeListener(): void {
    try {
      this.#listener?.close();
    } catch {
      // Closed already.
    }
    this.#listener = undefined;
  }

  /** Closes La, Lb and the listener at once, as a killed client would. */
  async vanish(): Promise<void> {
    this.#closeListener();
    await Promise.all([this.la.close(), this.#lb?.close()]);
  }
}

/** Options for {@linkcode ServerCheckContext}. */
export interface ServerContextOptions {
  /** The check's dialog. */
  dialog: Dialog;
  /** Aborts when the check's time is up. */
  signal: AbortSignal;
  /** The server's address. */
  address: Address;
  /** Its users. */
  users: UserSource;
  /** Where servers come from (for checks of how one starts). */
  servers: ServerSource;
  /** How long to wait for the server's own timeouts. */
  timeoutWaitMs: number;
  /** How long a program has to start. */
  startupMs: number;
  /** Whether an earlier check used the server. */
  reused: boolean;
}

/** What a server check works with. */
export class ServerCheckContext {
  /** The check's dialog. */
  readonly dialog: Dialog;
  /** Aborts when the check's time is up. */
  readonly signal: AbortSignal;
  /** The server's address. */
  readonly address: Address;
  /** The users the check may log in. */
  readonly users: UserSource;
  /** Where servers come from. */
  readonly servers: ServerSource;
  /** How long to wait for the server's own timeouts, in milliseconds. */
  readonly timeoutWaitMs: number;
  /** How long a program has to start, in milliseconds. */
  readonly startupMs: number;
  /** Whether an earlier check used the server. */
  readonly reused: boolean;
  readonly #peers: Peer[] = [];
  readonly #cleanups: (() => Promise<void> | void)[] = [];

  /** A context for one check. */
  constructor(options: ServerContextOptions) {
    this.dialog = options.dialog;
    this.signal = options.signal;
    this.address = options.address;
    this.users = options.users;
    this.servers = options.servers;
    this.timeoutWaitMs = options.timeoutWaitMs;
    this.startupMs = options.startupMs;
    this.reused = options.reused;
  }

  /**
   * For a check that needs nobody else online: on a server an earlier check
   * used, waits a moment for `peer` to be alone on `/list`, or asks for a new
   * server ({@linkcode FreshTargetNeeded}).
   */
  async ensureAlone(peer: Peer): Promise<void> {
    if (!this.reused) return;
    const deadline = performance.now() + ALONE_WAIT_MS;
    for (;;) {
      await peer.la.send(LIST);
      const line = await peer.la.expectAny("an answer to /list");
      const names = listedNames(line);
      if (
        line.startsWith(`${LIST_CODE}`) && names.length === 1 &&
        names[0] === peer.name
      ) {
        return;
      }
      if (performance.now() >= deadline) {
        throw new FreshTargetNeeded(
          `the server still lists users of earlier checks: ${line}`,
        );
      }
      await delay(50, { signal: this.signal });
    }
  }

  /** Opens La for a user of `role` (or for `user`), not logged in yet. */
  async connect(
    who: Role | User,
    options: ConnectOptions = {},
  ): Promise<Peer> {
    const user = typeof who === "string" ? this.users.take(who) : who;
    const hostname = options.via ?? this.address.hostname;
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port: this.address.port });
    } catch (error) {
      throw new CheckFailure(
        `cannot connect to the server at ${hostname}:${this.address.port}: ${
          describeError(error)
        }`,
      );
    }
    const la = new KitLink(conn, {
      dialog: this.dialog,
      who: user.name,
      link: "a",
      kit: "CLIENT",
      signal: this.signal,
      quiet: options.quiet,
    });
    const peer = new Peer(user, la, this, options);
    this.#peers.push(peer);
    return peer;
  }

  /** A client of `role` logged in (`101` by code). */
  async login(who: Role | User, options: ConnectOptions = {}): Promise<Peer> {
    const peer = await this.connect(who, options);
    await peer.logIn();
    return peer;
  }

  /** A client of `role` logged in with its Lb built (`101`, `201`). */
  async join(who: Role | User, options: ConnectOptions = {}): Promise<Peer> {
    const peer = await this.login(who, options);
    await peer.buildLb();
    return peer;
  }

  /** Runs `cleanup` when the check ends. */
  defer(cleanup: () => Promise<void> | void): void {
    this.#cleanups.push(cleanup);
  }

  /**
   * Ends the check: each client leaves politely first if `polite` (a server
   * that stays up between checks), then every link is closed.
   */
  async close(polite: boolean): Promise<void> {
    if (polite) await Promise.all(this.#peers.map((peer) => peer.leave()));
    await Promise.all(this.#peers.map((peer) => peer.vanish()));
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      await cleanup();
    }
  }
}

/** A check of a server. */
export interface ServerCheck extends Check<ServerCheckContext> {
  /** Needs no server started for it (it starts the server itself). */
  noServer?: boolean;
}

/** The names in a `301` answer: its words after the code (commas too). */
export function listedNames(line: string): string[] {
  return line.slice(3).split(/[\s,]+/).filter((name) => name !== "");
}
