/**
 * The servers the server checks talk to: started by the kit from the command
 * given (`{port}` and `{users}` filled in), or one already running.
 *
 * A started server serves one check at a time. After a check that passed,
 * it may serve another, which takes users no check has used on it; after a
 * check that failed, it is stopped.
 *
 * @module
 */

import { join } from "node:path";
import { delay } from "../../lib/async/delay.ts";
import { CheckSkipped } from "./check.ts";
import { lastLines, TargetProcess } from "./process.ts";
import { GivenUsers, KitUsers, type User, type UserSource } from "./users.ts";

/** Where a server listens. */
export interface Address {
  /** Its host name or IP address. */
  hostname: string;
  /** Its port. */
  port: number;
}

/** A server lent to one check. */
export interface ServerLease {
  /** Where it listens. */
  address: Address;
  /** The users the check may log in. */
  users: UserSource;
  /** Whether an earlier check used this server. */
  reused: boolean;
  /** What the server printed since the check began (its last lines). */
  output(): string[];
  /** Ends the lease; the server is kept for another check if `reusable`. */
  release(reusable: boolean): Promise<void>;
}

/** Where servers come from. */
export interface ServerSource {
  /** Whether the kit starts the servers itself. */
  readonly starts: boolean;
  /** A server for one check: a new one if `fresh` (and the kit starts them). */
  lease(fresh: boolean, signal: AbortSignal): Promise<ServerLease>;
  /**
   * Runs the server's command with `port` and `usersPath` (by default the
   * kit's users file) in place of the placeholders, for checks of how it
   * starts.
   */
  launch(port: number, usersPath?: string): TargetProcess;
  /** The kit's scratch directory, for files a check writes. */
  readonly scratch: string;
  /** Stops every server still running. */
  close(): Promise<void>;
}

/** The server did not come up; the message says what it did instead. */
export class StartupFailure extends Error {
  /** What it printed. */
  readonly output: string[];

  /** Creates the failure with the server's last output lines. */
  constructor(message: string, output: string[]) {
    super(message);
    this.name = "StartupFailure";
    this.output = output;
  }
}

/** Fills `{name}` placeholders into each argument. */
export function fillPlaceholders(
  command: readonly string[],
  values: Readonly<Record<string, string>>,
): string[] {
  return command.map((arg) =>
    arg.replace(/\{(\w+)\}/g, (whole, name) => values[name] ?? whole)
  );
}

/** Ports handed out to servers started by this process. */
const handedOut = new Set<number>();
/**
 * Where ports for servers are picked: below the ranges systems take their
 * own connections' ports from (32768 and up on Linux, 49152 and up
 * elsewhere), so that no connection of the kit's takes a port a server is
 * about to listen on.
 */
const PORTS_FROM = 20_000;
const PORTS_TO = 32_000;

/**
 * A TCP port free on every interface a moment ago, and never handed out
 * before by this process (two servers starting at once never get one port).
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORTS_FROM +
      Math.floor(Math.random() * (PORTS_TO - PORTS_FROM));
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "0.0.0.0", port }).close();
    } catch {
      continue;
    }
    handedOut.add(port);
    return port;
  }
  const listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const { port } = listener.addr;
  listener.close();
  handedOut.add(port);
  return port;
}

/** Starts a server before giving up: a port may be taken meanwhile. */
const START_ATTEMPTS = 3;

interface Instance {
  process: TargetProcess;
  port: number;
  users: KitUsers;
  checks: number;
}

/** Options for {@linkcode StartedServers}. */
export interface StartedServersOptions {
  /** Where the kit's files go (the users file is written there). */
  scratch: string;
  /** Time a server has to start accepting connections. */
  startupMs: number;
}

/** Servers the kit starts from a command. */
export class StartedServers implements ServerSource {
  readonly starts = true;
  readonly scratch: string;
  readonly #command: readonly string[];
  readonly #usersPath: string;
  readonly #startupMs: number;
  readonly #idle: Instance[] = [];
  readonly #all = new Set<Instance>();
  #started = false;
  #neverStarts: StartupFailure | undefined;

  /** `command` holds `{port}` and `{users}`; the users file is written. */
  constructor(command: readonly string[], options: StartedServersOptions) {
    this.#command = command;
    this.scratch = options.scratch;
    this.#startupMs = options.startupMs;
    this.#usersPath = join(options.scratch, "users.txt");
  }

  /** Writes the users file the servers are started with. */
  async prepare(usersText: string): Promise<void> {
    await Deno.writeTextFile(this.#usersPath, usersText);
  }

  launch(port: number, usersPath: string = this.#usersPath): TargetProcess {
    return TargetProcess.start(
      fillPlaceholders(this.#command, {
        port: String(port),
        users: usersPath,
      }),
    );
  }

  async lease(fresh: boolean, signal: AbortSignal): Promise<ServerLease> {
    let instance = fresh ? undefined : this.#idle.pop();
    if (instance?.process.status !== undefined) {
      await this.#stop(instance);
      instance = undefined;
    }
    instance ??= await this.#start(signal);
    const from = {
      stdout: instance.process.stdout.length,
      stderr: instance.process.stderr.length,
    };
    const chosen = instance;
    return {
      address: { hostname: "127.0.0.1", port: chosen.port },
      users: chosen.users,
      reused: chosen.checks++ > 0,
      output: () => [
        ...lastLines(chosen.process.stdout.slice(from.stdout), 10),
        ...lastLines(chosen.process.stderr.slice(from.stderr), 20),
      ],
      release: async (reusable) => {
        if (reusable && chosen.process.status === undefined) {
          this.#idle.push(chosen);
        } else {
          await this.#stop(chosen);
        }
      },
    };
  }

  async #start(signal: AbortSignal): Promise<Instance> {
    if (this.#neverStarts) throw this.#neverStarts;
    for (let attempt = 1;; attempt++) {
      const port = freePort();
      const process = this.launch(port, this.#usersPath);
      const instance = { process, port, users: new KitUsers(), checks: 0 };
      this.#all.add(instance);
      const failure = await waitUntilListening(process, port, {
        ms: this.#startupMs,
        signal,
      });
      if (failure === undefined) {
        this.#started = true;
        return instance;
      }
      await this.#stop(instance);
      // A server that exited may have found its port taken: another port.
      const exited = process.status !== undefined;
      if (exited && attempt < START_ATTEMPTS && !signal.aborted) continue;
      const error = new StartupFailure(
        failure,
        lastLines(process.stdout, 10).concat(lastLines(process.stderr, 20)),
      );
      // A server that never came up will not come up for the next check.
      if (!this.#started && !signal.aborted) this.#neverStarts = error;
      throw error;
    }
  }

  async #stop(instance: Instance): Promise<void> {
    this.#all.delete(instance);
    await instance.process.stop();
  }

  async close(): Promise<void> {
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((instance) => this.#stop(instance)));
  }
}

/**
 * Polls `port` on 127.0.0.1 until the server accepts a connection; resolves
 * to `undefined` then, or to why it did not.
 */
async function waitUntilListening(
  process: TargetProcess,
  port: number,
  options: { ms: number; signal: AbortSignal },
): Promise<string | undefined> {
  const deadline = performance.now() + options.ms;
  for (;;) {
    if (process.status !== undefined) {
      return `the server ${process.describeExit()} before it listened on port ${port}`;
    }
    if (options.signal.aborted) return "interrupted";
    try {
      const probe = await Deno.connect({ hostname: "127.0.0.1", port });
      probe.close();
      return undefined;
    } catch {
      // Not listening yet.
    }
    if (performance.now() >= deadline) {
      return `the server did not listen on port ${port} within ${
        options.ms / 1000
      } s`;
    }
    await delay(25, { signal: options.signal });
  }
}

/** A server already running, at `address`, with the users of `--users`. */
export class RunningServer implements ServerSource {
  readonly starts = false;
  readonly scratch: string;
  readonly #address: Address;
  readonly #users: GivenUsers;
  #leases = 0;

  /** The server at `address`; `users` are those of its users file. */
  constructor(address: Address, users: User[], scratch: string) {
    this.#address = address;
    this.#users = new GivenUsers(users);
    this.scratch = scratch;
  }

  lease(): Promise<ServerLease> {
    return Promise.resolve({
      address: this.#address,
      users: this.#users,
      reused: this.#leases++ > 0,
      output: () => [],
      release: () => Promise.resolve(),
    });
  }

  launch(): TargetProcess {
    throw new CheckSkipped(
      "needs the kit to start the server (give its command instead of --target)",
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
