/**
 * The load generator: N simulated users of a server, held by one or more
 * worker processes (`worker.ts`), driven from here.
 *
 * Each worker process holds at most as many users as its open-file limit
 * allows (two sockets per user, plus an Lb listener while a user logs in);
 * beyond that, users are spread over several workers. Each worker binds its
 * users' La links to loopback addresses of its own (`127.b.w.k`, a few
 * hundred users per address), so that the kernel's ephemeral ports, shared
 * per address, do not run out, and successive runs do not trip over sockets
 * left in TIME_WAIT by earlier ones.
 *
 * @example
 * ```ts ignore
 * await using load = await LoadGenerator.start({ port: 5000, users: 1000 });
 * await load.login();
 * const fanOut = await load.toAll(0);
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type {
  Counters,
  LoginResult,
  OpenLoopResult,
  ProbeResult,
  ToAllResult,
  ToEachResult,
  WorkerRequest,
  WorkerResponse,
} from "./messages.ts";
import { userName } from "./users.ts";

const WORKER_SCRIPT = fileURLToPath(new URL("./worker.ts", import.meta.url));

/**
 * Descriptors a worker keeps for itself (stdio, the runtime, Lb listeners
 * of users logging in): a tenth of the limit, at most 1,000.
 */
function reservedFds(openFiles: number): number {
  return Math.min(1000, Math.ceil(openFiles / 10));
}
/** The default number of users bound to one local address. */
export const DEFAULT_USERS_PER_ADDRESS = 500;
/** Default number of users logging in at the same time, over all workers. */
export const DEFAULT_LOGIN_CONCURRENCY = 100;
/** Default time allowed for one user's login. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;
/** Default limit on any request to a worker. */
const REQUEST_TIMEOUT_MS = 300_000;

let nextAddressBlock = Math.floor(Math.random() * 254);

/** The open-file limit of this process, which workers inherit. */
export function openFileLimit(): number {
  try {
    const limits = Deno.readTextFileSync("/proc/self/limits");
    const match = /^Max open files\s+(\d+)/m.exec(limits);
    if (match !== null) return Number(match[1]);
  } catch {
    // Not Linux, or no read permission: assume a common default.
  }
  return 1024;
}

/** How many users one worker process can hold under `openFiles`. */
export function usersPerWorkerFor(openFiles: number): number {
  return Math.max(1, Math.floor((openFiles - reservedFds(openFiles)) / 2));
}

/** Options for {@linkcode LoadGenerator.start}. */
export interface LoadGeneratorOptions {
  /** The server's address; default `127.0.0.1`. */
  host?: string;
  /** The server's port. */
  port: number;
  /** A cluster's nodes' ports, users spread over them in turn. */
  ports?: number[];
  /** How many users (`u0` to `u<users - 1>`). */
  users: number;
  /** Users per worker process; default from the open-file limit. */
  usersPerWorker?: number;
  /** Users bound to one local address; default 500. */
  usersPerAddress?: number;
  /** Extra `deno run` flags for the workers, such as `--cpu-prof`. */
  denoFlags?: string[];
  /** The server's web port, for browser users. */
  webPort?: number;
  /**
   * Users from this index on are browser users: WebSocket clients of
   * `webPort` instead of terminal clients. Default: none.
   */
  webFrom?: number;
}

/** Options for {@linkcode LoadGenerator.login}. */
export interface LoginOptions {
  /** Users logging in at once, over all workers; default 100. */
  concurrency?: number;
  /** Time allowed for each user; default 30 s. */
  timeoutMs?: number;
}

/** The outcome of a broadcast: one `/toall` and the receipts it caused. */
export interface FanOutResult {
  /** The reply to `/toall`. */
  reply: string;
  /** From writing `/toall` to its reply, in milliseconds. */
  replyMs: number;
  /** Receivers that got the line. */
  receivers: number;
  /** Lines received (more than `receivers` means duplicates). */
  receipts: number;
  /** From writing `/toall` to the first receipt, in milliseconds. */
  firstMs: number;
  /** From writing `/toall` to the last receipt, in milliseconds. */
  lastMs: number;
  /** Last receipt minus first receipt, in milliseconds. */
  spreadMs: number;
}

/** The outcome of {@linkcode LoadGenerator.toEach}. */
export interface ToEachSummary extends ToEachResult {
  /** Distinct users that received the message. */
  receivers: number;
}

/** One worker process and its request channel. */
class WorkerProcess {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  readonly #reading: Promise<void>;
  #nextId = 1;
  #gone: Error | undefined;
  #stdinClosed = false;

  constructor(denoFlags: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", ...denoFlags, WORKER_SCRIPT],
      env: { NO_COLOR: "1" },
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#reading = this.#read();
  }

  get pid(): number {
    return this.#child.pid;
  }

  async #read(): Promise<void> {
    let buffered = "";
    try {
      const lines = this.#child.stdout.pipeThrough(new TextDecoderStream());
      for await (const text of lines) {
        buffered += text;
        let newline = buffered.indexOf("\n");
        while (newline !== -1) {
          this.#dispatch(JSON.parse(buffered.slice(0, newline)));
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
        }
      }
    } catch (error) {
      this.#gone = error instanceof Error ? error : new Error(String(error));
    }
    this.#gone ??= new Error(`load worker ${this.pid} exited`);
    for (const { reject } of this.#pending.values()) reject(this.#gone);
    this.#pending.clear();
  }

  #dispatch(response: WorkerResponse): void {
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    if (response.ok) pending.resolve(response.result);
    else {pending.reject(
        new Error(`load worker ${this.pid}: ${response.error}`),
      );}
  }

  async request<T>(
    request: WorkerRequest,
    timeoutMs = REQUEST_TIMEOUT_MS,
  ): Promise<T> {
    if (this.#gone !== undefined) throw this.#gone;
    const id = this.#nextId++;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    const line = JSON.stringify({ id, ...request }) + "\n";
    await this.#writer.write(new TextEncoder().encode(line));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `load worker ${this.pid}: no answer to ${request.op} in ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([answer, deadline]) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the worker to close its links, ends its input, awaits its exit. */
  async close(): Promise<void> {
    if (this.#gone === undefined) {
      await this.request({ op: "close" }, 10_000).catch(() => {});
    }
    if (!this.#stdinClosed) {
      this.#stdinClosed = true;
      await this.#writer.close().catch(() => {});
    }
    const timer = setTimeout(() => this.kill(), 10_000);
    try {
      await this.#child.status;
      await this.#reading;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** Simulated users of one server, over one or more worker processes. */
export class LoadGenerator implements AsyncDisposable {
  /** How many users. */
  readonly users: number;
  /** Users per worker (the last may hold fewer). */
  readonly usersPerWorker: number;
  readonly #workers: WorkerProcess[];
  #closed: Promise<void> | undefined;

  private constructor(
    users: number,
    usersPerWorker: number,
    workers: WorkerProcess[],
  ) {
    this.users = users;
    this.usersPerWorker = usersPerWorker;
    this.#workers = workers;
  }

  /** Spawns the workers and sets up (without connecting) every user. */
  static async start(options: LoadGeneratorOptions): Promise<LoadGenerator> {
    const perWorker = options.usersPerWorker ??
      usersPerWorkerFor(openFileLimit());
    const perAddress = options.usersPerAddress ?? DEFAULT_USERS_PER_ADDRESS;
    const count = Math.max(1, Math.ceil(options.users / perWorker));
    const block = 1 + (nextAddressBlock++ % 254);
    const workers: WorkerProcess[] = [];
    const load = new LoadGenerator(options.users, perWorker, workers);
    try {
      for (let w = 0; w < count; w++) {
        workers.push(new WorkerProcess(options.denoFlags ?? []));
      }
      await Promise.all(workers.map((worker, w) => {
        const first = w * perWorker;
        const held = Math.min(perWorker, options.users - first);
        const addresses: string[] = [];
        const slots = Math.min(250, Math.max(1, Math.ceil(held / perAddress)));
        for (let k = 0; k < slots; k++) {
          addresses.push(`127.${block}.${w + 1}.${k + 1}`);
        }
        return worker.request({
          op: "init",
          host: options.host ?? "127.0.0.1",
          port: options.port,
          ports: options.ports,
          first,
          count: held,
          addresses,
          webPort: options.webPort,
          webFrom: options.webFrom,
        });
      }));
    } catch (error) {
      await load.close();
      throw error;
    }
    return load;
  }

  /** The process ids of the workers. */
  get workerPids(): number[] {
    return this.#workers.map((worker) => worker.pid);
  }

  #workerOf(index: number): WorkerProcess {
    const worker = this.#workers[Math.floor(index / this.usersPerWorker)];
    if (worker === undefined || index < 0 || index >= this.users) {
      throw new RangeError(`no user ${index}`);
    }
    return worker;
  }

  /** Calls `request` for each worker's share of users `from` to `to`. */
  #split<T>(
    from: number,
    to: number,
    request: (
      worker: WorkerProcess,
      from: number,
      to: number,
      share: number,
    ) => Promise<T>,
  ): Promise<T[]> {
    const shares: { worker: WorkerProcess; from: number; to: number }[] = [];
    for (let w = 0; w < this.#workers.length; w++) {
      const start = Math.max(from, w * this.usersPerWorker);
      const end = Math.min(to, (w + 1) * this.usersPerWorker, this.users);
      if (start < end) {
        shares.push({ worker: this.#workers[w], from: start, to: end });
      }
    }
    return Promise.all(
      shares.map((s) => request(s.worker, s.from, s.to, 1 / shares.length)),
    );
  }

  /**
   * Logs in users `from` to `to` (default: all) with both links. Resolves
   * once every one is online or has failed; `elapsedMs` is the whole time.
   */
  async login(
    from = 0,
    to: number = this.users,
    options: LoginOptions = {},
  ): Promise<LoginResult> {
    const started = performance.now();
    const concurrency = options.concurrency ?? DEFAULT_LOGIN_CONCURRENCY;
    const results = await this.#split(
      from,
      to,
      (worker, start, end, share) =>
        worker.request<LoginResult>({
          op: "login",
          from: start,
          to: end,
          concurrency: Math.max(1, Math.round(concurrency * share)),
          timeoutMs: options.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
        }),
    );
    return {
      ok: sum(results.map((r) => r.ok)),
      failed: sum(results.map((r) => r.failed)),
      errors: results.flatMap((r) => r.errors).slice(0, 5),
      elapsedMs: performance.now() - started,
    };
  }

  /** Starts closed loops: each sender sends `/to` again on every reply. */
  async startLoop(pairs: [number, number][], content: string): Promise<void> {
    const bySender = this.#groupPairs(pairs);
    await Promise.all(
      [...bySender].map(([worker, group]) =>
        worker.request({ op: "loop_start", pairs: group, content })
      ),
    );
  }

  /** The workers' counters, added up. */
  async counters(): Promise<Counters> {
    return addCounters(
      await Promise.all(
        this.#workers.map((w) => w.request<Counters>({ op: "counters" })),
      ),
    );
  }

  /** Stops the closed loops, waits for replies in flight, and adds up. */
  async stopLoop(): Promise<Counters> {
    return addCounters(
      await Promise.all(
        this.#workers.map((w) => w.request<Counters>({ op: "loop_stop" })),
      ),
    );
  }

  /**
   * Sends `/to` from the pairs' senders in turn at `rate` messages per second
   * for `durationMs`, whatever the replies, and times each message sent
   * after `warmupMs` from its write to its reply.
   */
  async openLoop(
    pairs: [number, number][],
    rate: number,
    durationMs: number,
    warmupMs: number,
    content: string,
  ): Promise<OpenLoopResult> {
    const groups = [...this.#groupPairs(pairs)];
    const results = await Promise.all(
      groups.map(([worker, group]) =>
        worker.request<OpenLoopResult>({
          op: "open_loop",
          pairs: group,
          rate: (rate * group.length) / pairs.length,
          durationMs,
          warmupMs,
          content,
        })
      ),
    );
    return {
      latenciesMs: results.flatMap((r) => r.latenciesMs),
      sent: sum(results.map((r) => r.sent)),
      delivered: sum(results.map((r) => r.delivered)),
      failed: sum(results.map((r) => r.failed)),
      elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
    };
  }

  /** User `sender` sends one `/toall`; receipts are timed on every worker. */
  async toAll(
    sender: number,
    token: string = uniqueToken(),
  ): Promise<FanOutResult> {
    await this.#probeStart(token);
    let sent: ToAllResult;
    let probe: ProbeResult;
    try {
      sent = await this.#workerOf(sender).request<ToAllResult>({
        op: "toall",
        sender,
        content: token,
      });
    } finally {
      probe = await this.#probeStop();
    }
    const first = probe.times.length > 0 ? Math.min(...probe.times) : NaN;
    const last = probe.times.length > 0 ? Math.max(...probe.times) : NaN;
    return {
      reply: sent.reply,
      replyMs: sent.repliedAt - sent.sentAt,
      receivers: probe.users,
      receipts: probe.count,
      firstMs: first - sent.sentAt,
      lastMs: last - sent.sentAt,
      spreadMs: last - first,
    };
  }

  /**
   * Every user `i` sends one `/to u<(i + 1) mod users>`: each user sends one
   * message and receives one.
   */
  async toEach(
    concurrency = 200,
    token: string = uniqueToken(),
  ): Promise<ToEachSummary> {
    await this.#probeStart(token);
    const started = performance.now();
    let results: ToEachResult[];
    let probe: ProbeResult;
    try {
      results = await this.#split(
        0,
        this.users,
        (worker, from, to, share) =>
          worker.request<ToEachResult>({
            op: "to_each",
            from,
            to,
            total: this.users,
            content: token,
            concurrency: Math.max(1, Math.round(concurrency * share)),
          }),
      );
    } finally {
      probe = await this.#probeStop();
    }
    return {
      ok: sum(results.map((r) => r.ok)),
      failed: sum(results.map((r) => r.failed)),
      elapsedMs: performance.now() - started,
      receivers: probe.users,
    };
  }

  async #probeStart(token: string): Promise<void> {
    await Promise.all(
      this.#workers.map((w) => w.request({ op: "probe_start", token })),
    );
  }

  async #probeStop(): Promise<ProbeResult> {
    const results = await Promise.all(
      this.#workers.map((w) => w.request<ProbeResult>({ op: "probe_stop" })),
    );
    return {
      count: sum(results.map((r) => r.count)),
      users: sum(results.map((r) => r.users)),
      times: results.flatMap((r) => r.times),
    };
  }

  #groupPairs(
    pairs: [number, number][],
  ): Map<WorkerProcess, [number, string][]> {
    const groups = new Map<WorkerProcess, [number, string][]>();
    for (const [sender, receiver] of pairs) {
      const worker = this.#workerOf(sender);
      let group = groups.get(worker);
      if (group === undefined) groups.set(worker, group = []);
      group.push([sender, userName(receiver)]);
    }
    return groups;
  }

  /** Closes every link and ends every worker (killed if it lingers). */
  close(): Promise<void> {
    this.#closed ??= Promise.all(this.#workers.map((w) => w.close())).then(
      () => {},
    );
    return this.#closed;
  }

  /** Kills the workers at once; for emergencies (`close` is the clean way). */
  kill(): void {
    for (const worker of this.#workers) worker.kill();
  }

  /** Same as {@linkcode LoadGenerator.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function addCounters(all: Counters[]): Counters {
  return {
    delivered: sum(all.map((c) => c.delivered)),
    failed: sum(all.map((c) => c.failed)),
    received: sum(all.map((c) => c.received)),
    dropped: sum(all.map((c) => c.dropped)),
  };
}

let tokens = 0;

/** A content no other message in the run has. */
function uniqueToken(): string {
  return `probe-${Date.now().toString(36)}-${(tokens++).toString(36)}`;
}
