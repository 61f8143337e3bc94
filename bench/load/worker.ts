/**
 * A load generator worker process: holds a range of simulated users and runs
 * what the coordinator asks, one JSON request per line on standard input,
 * one JSON response per line on standard output (see `messages.ts`).
 * Requests are served as they come, so `counters` can be read while a loop
 * runs. At the end of standard input every link is closed and the worker
 * exits.
 *
 * ```sh
 * deno run --allow-net bench/load/worker.ts
 * ```
 *
 * @module
 */

import {
  DELIVERY_SUCCESSFUL,
  formatTo,
  formatToAll,
} from "../../lib/protocol.ts";
import type {
  Counters,
  InitRequest,
  LoginRequest,
  LoginResult,
  OpenLoopRequest,
  OpenLoopResult,
  Pair,
  ProbeResult,
  ToAllRequest,
  ToAllResult,
  ToEachRequest,
  ToEachResult,
  WorkerRequest,
  WorkerResponse,
} from "./messages.ts";
import {
  type LoadUser,
  newTally,
  Probe,
  SimUser,
  wallClock,
} from "./sim_user.ts";
import { WebSimUser } from "./web_user.ts";
import { userName } from "./users.ts";

/** Longest wait for replies in flight when a loop stops. */
const STOP_TIMEOUT_MS = 20_000;
/** Extra time an open loop waits for its last replies. */
const OPEN_LOOP_GRACE_MS = 20_000;
/** Failures described in a login result. */
const MAX_ERRORS = 5;

const encoder = new TextEncoder();

/** The worker's state: its users and their shared counters. */
class Worker {
  readonly tally = newTally();
  #config: InitRequest | undefined;
  #users: LoadUser[] = [];
  #probes = 0;
  #loopRunning = false;
  #loopOutstanding = 0;
  #loopIdle: (() => void) | undefined;

  init(request: InitRequest): void {
    this.#config = request;
    this.#users = [];
    for (let k = 0; k < request.count; k++) {
      const address = request.addresses[k % request.addresses.length];
      const index = request.first + k;
      this.#users.push(
        index >= (request.webFrom ?? Infinity)
          ? new WebSimUser(index, this.tally)
          : new SimUser(index, address, this.tally),
      );
    }
  }

  #user(index: number): LoadUser {
    const first = this.#config?.first ?? 0;
    const user = this.#users[index - first];
    if (user === undefined) throw new Error(`user ${index} is not held here`);
    return user;
  }

  async login(request: LoginRequest): Promise<LoginResult> {
    const config = this.#config;
    if (config === undefined) throw new Error("init first");
    const started = performance.now();
    const errors: string[] = [];
    let ok = 0;
    let failed = 0;
    let next = request.from;
    const lane = async (): Promise<void> => {
      while (next < request.to) {
        const index = next++;
        const user = this.#user(index);
        try {
          const ports = config.ports ?? [config.port];
          const port = user instanceof WebSimUser
            ? config.webPort ?? config.port
            : ports[index % ports.length];
          await user.login(config.host, port, request.timeoutMs);
          ok++;
        } catch (error) {
          failed++;
          if (errors.length < MAX_ERRORS) {
            errors.push(`${user.name}: ${describe(error)}`);
          }
        }
      }
    };
    const lanes = Math.max(
      1,
      Math.min(request.concurrency, request.to - request.from),
    );
    await Promise.all(Array.from({ length: lanes }, lane));
    return { ok, failed, errors, elapsedMs: performance.now() - started };
  }

  counters(): Counters {
    const { delivered, failed, received, dropped } = this.tally;
    return { delivered, failed, received, dropped };
  }

  loopStart(pairs: Pair[], content: string): void {
    this.#loopRunning = true;
    for (const [sender, receiver] of pairs) {
      const user = this.#user(sender);
      const bytes = user.prepare(formatTo(receiver, content));
      const onReply = (reply: string | undefined): void => {
        if (reply === DELIVERY_SUCCESSFUL) this.tally.delivered++;
        else this.tally.failed++;
        if (this.#loopRunning && reply !== undefined) {
          user.send(bytes, onReply);
          return;
        }
        if (--this.#loopOutstanding === 0) this.#loopIdle?.();
      };
      this.#loopOutstanding++;
      user.send(bytes, onReply);
    }
  }

  async loopStop(): Promise<Counters> {
    this.#loopRunning = false;
    if (this.#loopOutstanding > 0) {
      const idle = Promise.withResolvers<void>();
      this.#loopIdle = idle.resolve;
      const timer = setTimeout(idle.resolve, STOP_TIMEOUT_MS);
      await idle.promise;
      clearTimeout(timer);
      this.#loopIdle = undefined;
    }
    return this.counters();
  }

  openLoop(request: OpenLoopRequest): Promise<OpenLoopResult> {
    const senders = request.pairs.map(([sender, receiver]) => {
      const user = this.#user(sender);
      return { user, bytes: user.prepare(formatTo(receiver, request.content)) };
    });
    const total = Math.round((request.rate * request.durationMs) / 1000);
    const latenciesMs: number[] = [];
    let sent = 0;
    let delivered = 0;
    let failed = 0;
    let outstanding = 0;
    let lastReply = 0;
    const started = performance.now();
    const timedFrom = started + request.warmupMs;
    const done = Promise.withResolvers<OpenLoopResult>();
    const finish = (): void =>
      done.resolve({
        latenciesMs,
        sent,
        delivered,
        failed,
        elapsedMs: Math.max(lastReply, performance.now()) - started,
      });
    const finishIfDone = (): void => {
      if (sent === total && outstanding === 0) finish();
    };
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(
        total,
        Math.floor(((now - started) * request.rate) / 1000) + 1,
      );
      while (sent < due) {
        const { user, bytes } = senders[sent % senders.length];
        const at = performance.now();
        const timed = at >= timedFrom;
        sent++;
        outstanding++;
        user.send(bytes, (reply) => {
          lastReply = performance.now();
          outstanding--;
          if (timed) {
            latenciesMs.push(lastReply - at);
            if (reply === DELIVERY_SUCCESSFUL) delivered++;
            else failed++;
          }
          finishIfDone();
        });
      }
      if (sent < total) setTimeout(tick, 1);
      else finishIfDone();
    };
    if (total === 0 || senders.length === 0) {
      finish();
      return done.promise;
    }
    tick();
    const guard = setTimeout(() => {
      failed += outstanding;
      finish();
    }, request.durationMs + OPEN_LOOP_GRACE_MS);
    return done.promise.finally(() => clearTimeout(guard));
  }

  probeStart(token: string): void {
    this.tally.probe = new Probe(token, this.#probes++);
  }

  probeStop(): ProbeResult {
    const probe = this.tally.probe;
    this.tally.probe = undefined;
    if (probe === undefined) return { count: 0, users: 0, times: [] };
    return {
      count: probe.times.length,
      users: probe.users,
      times: probe.times,
    };
  }

  async toAll(request: ToAllRequest): Promise<ToAllResult> {
    const user = this.#user(request.sender);
    const sentAt = wallClock();
    const reply = await user.request(formatToAll(request.content));
    return { sentAt, repliedAt: wallClock(), reply };
  }

  async toEach(request: ToEachRequest): Promise<ToEachResult> {
    const started = performance.now();
    let ok = 0;
    let failed = 0;
    let next = request.from;
    const lane = async (): Promise<void> => {
      while (next < request.to) {
        const index = next++;
        const target = userName((index + 1) % request.total);
        try {
          const reply = await this.#user(index).request(
            formatTo(target, request.content),
          );
          if (reply === DELIVERY_SUCCESSFUL) ok++;
          else failed++;
        } catch {
          failed++;
        }
      }
    };
    const lanes = Math.max(
      1,
      Math.min(request.concurrency, request.to - request.from),
    );
    await Promise.all(Array.from({ length: lanes }, lane));
    return { ok, failed, elapsedMs: performance.now() - started };
  }

  close(): void {
    this.#loopRunning = false;
    for (const user of this.#users) user.close();
  }

  async handle(request: WorkerRequest): Promise<unknown> {
    switch (request.op) {
      case "init":
        return this.init(request);
      case "login":
        return await this.login(request);
      case "loop_start":
        return this.loopStart(request.pairs, request.content);
      case "counters":
        return this.counters();
      case "loop_stop":
        return await this.loopStop();
      case "open_loop":
        return await this.openLoop(request);
      case "probe_start":
        return this.probeStart(request.token);
      case "probe_stop":
        return this.probeStop();
      case "toall":
        return await this.toAll(request);
      case "to_each":
        return await this.toEach(request);
      case "close":
        return this.close();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function respond(response: WorkerResponse): Promise<void> {
  const bytes = encoder.encode(JSON.stringify(response) + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += await Deno.stdout.write(bytes.subarray(written));
  }
}

/** Serves requests from standard input until it ends. */
async function main(): Promise<void> {
  const worker = new Worker();
  // Responses go out one at a time, in the order they are ready.
  let writing: Promise<void> = Promise.resolve();
  const serve = async (line: string): Promise<void> => {
    let id = -1;
    let response: WorkerResponse;
    try {
      const message = JSON.parse(line) as WorkerRequest & { id: number };
      id = message.id;
      const result = await worker.handle(message);
      response = { id, ok: true, result: result ?? null };
    } catch (error) {
      response = { id, ok: false, error: describe(error) };
    }
    writing = writing.then(() => respond(response));
    await writing;
  };
  let buffered = "";
  for await (
    const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    buffered += text;
    let newline = buffered.indexOf("\n");
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== "") serve(line).catch(() => {});
      newline = buffered.indexOf("\n");
    }
  }
  worker.close();
  await writing;
}

if (import.meta.main) {
  await main();
  Deno.exit(0);
}
