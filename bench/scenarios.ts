/**
 * The benchmark's scenarios, each run against every server under test in the
 * same run: start-up, capacity, `/to` throughput, `/to` latency and `/toall`
 * fan-out. Each server runs as its own process, started fresh for each
 * scenario (the messaging scenarios share one server per implementation);
 * the load generator's workers are separate processes too.
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";
import { type FanOutResult, LoadGenerator } from "./load/load_generator.ts";
import { makeRow, type ResultRow, type Value } from "./report.ts";
import {
  cpuSeconds,
  type ServerKind,
  ServerProcess,
  type StartOptions,
} from "./servers.ts";
import { median, percentile, sortedNumbers } from "./stats.ts";

/** What a run measures, and how long it spends on each measurement. */
export interface Plan {
  /** `quick` or `full`. */
  mode: "quick" | "full";
  /** Start-ups timed per server (after one untimed). */
  startupRuns: number;
  /** User counts for the capacity scenario. */
  capacityUsers: number[];
  /** Online counts for the fan-out scenario. */
  fanOutUsers: number[];
  /** Broadcasts per fan-out measurement. */
  fanOutRuns: number;
  /** Pair counts for the throughput scenario. */
  throughputPairs: number[];
  /** Length of one throughput window. */
  throughputWindowMs: number;
  /** Windows per pair count (the figure is their median). */
  throughputRuns: number;
  /** Time a loop runs before it is measured. */
  warmupMs: number;
  /** Senders (each with its own receiver) in the latency scenario. */
  latencyPairs: number;
  /** Length of one latency run, warm-up excluded. */
  latencyDurationMs: number;
  /** Latency runs (each percentile is the median over runs). */
  latencyRuns: number;
  /** The offered load, as a fraction of the lower of ours' and the baseline's maxima. */
  latencyLoadFraction: number;
  /** Users online in the web capacity scenario, once as each kind. */
  webCapacityUsers: number;
  /** Pair counts for the web throughput scenario. */
  webThroughputPairs: number[];
}

/** `deno task bench`: under two minutes. */
export const QUICK_PLAN: Plan = {
  mode: "quick",
  startupRuns: 5,
  capacityUsers: [1000, 5000],
  fanOutUsers: [100, 1000, 5000],
  fanOutRuns: 3,
  throughputPairs: [1, 10, 100],
  throughputWindowMs: 800,
  throughputRuns: 3,
  warmupMs: 250,
  latencyPairs: 100,
  latencyDurationMs: 2000,
  latencyRuns: 1,
  latencyLoadFraction: 0.5,
  webCapacityUsers: 1000,
  webThroughputPairs: [100],
};

/** `deno task bench --full`: everything, with longer and more runs. */
export const FULL_PLAN: Plan = {
  mode: "full",
  startupRuns: 10,
  capacityUsers: [1000, 5000, 9000],
  fanOutUsers: [100, 1000, 5000],
  fanOutRuns: 5,
  throughputPairs: [1, 10, 100],
  throughputWindowMs: 2000,
  throughputRuns: 5,
  warmupMs: 500,
  latencyPairs: 100,
  latencyDurationMs: 5000,
  latencyRuns: 3,
  latencyLoadFraction: 0.5,
  webCapacityUsers: 1000,
  webThroughputPairs: [10, 100],
};

/** The chat content of every `/to` in the throughput and latency scenarios. */
export const CONTENT = "benchmark message of 32 bytes...";

/** Users online in the messaging session (throughput and latency pairs). */
const MESSAGING_USERS = 200;
/** Time a fresh server is left alone before its idle memory is read. */
const SETTLE_MS = 300;

/** Everything the scenarios share. */
export interface Context {
  /** The plan. */
  plan: Plan;
  /** A users file holding at least as many users as any scenario needs. */
  usersFile: string;
  /** The servers to measure. */
  kinds: readonly ServerKind[];
  /** How to start each server. */
  startOptions: (kind: ServerKind) => StartOptions;
  /** Progress lines. */
  log: (line: string) => void;
  /** Every process started and not yet stopped, for emergencies. */
  live: LiveProcesses;
}

/** A scenario's output: rows for the table and its raw measurements. */
export interface ScenarioResult {
  /** Table rows, in order. */
  rows: ResultRow[];
  /** Raw measurements. */
  raw: unknown;
}

/** Servers and load generators in use, so that a failure can end them all. */
export class LiveProcesses {
  readonly #servers = new Set<ServerProcess>();
  readonly #loads = new Set<LoadGenerator>();

  /** Starts a server and keeps track of it until it is stopped. */
  async server(
    kind: ServerKind,
    usersFile: string,
    options: StartOptions,
  ): Promise<ServerProcess> {
    const server = await ServerProcess.start(kind, usersFile, options);
    this.#servers.add(server);
    return server;
  }

  /**
   * Starts a load generator for `users` users of `server`: from
   * `options.webFrom` on, browser users of its web port; with
   * `options.ports`, spread over a cluster's nodes.
   */
  async load(
    server: ServerProcess,
    users: number,
    options: { webFrom?: number; ports?: number[] } = {},
  ): Promise<LoadGenerator> {
    const load = await LoadGenerator.start({
      port: server.port,
      ports: options.ports,
      users,
      webPort: server.webPort,
      webFrom: options.webFrom,
    });
    this.#loads.add(load);
    return load;
  }

  /**
   * Stops the server first (its side then holds the TIME_WAIT states), then
   * closes the load generator.
   */
  async end(server?: ServerProcess, load?: LoadGenerator): Promise<void> {
    try {
      if (server !== undefined) {
        await server.stop();
        this.#servers.delete(server);
      }
    } finally {
      if (load !== undefined) {
        await load.close();
        this.#loads.delete(load);
      }
    }
  }

  /** Stops everything still running. */
  async endAll(): Promise<void> {
    await Promise.allSettled([...this.#servers].map((s) => this.end(s)));
    await Promise.allSettled(
      [...this.#loads].map((l) => this.end(undefined, l)),
    );
  }

  /** Kills everything still running, without waiting. */
  killAll(): void {
    for (const load of this.#loads) load.kill();
    for (const server of this.#servers) server.stop();
  }
}

type PerKind<T> = Partial<Record<ServerKind, T>>;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function count(value: number): string {
  return value.toLocaleString("en-US");
}

/** A row from per-server samples; each value is the median of its samples. */
function sampledRow(
  scenario: string,
  figure: string,
  better: "higher" | "lower",
  samples: PerKind<number[]>,
  errors: PerKind<string> = {},
): ResultRow {
  const value = (kind: ServerKind): Value => {
    if (errors[kind] !== undefined) return "error";
    const list = samples[kind];
    return list === undefined || list.length === 0 ? null : median(list);
  };
  return makeRow({
    scenario,
    figure,
    better,
    ours: value("ours"),
    baseline: value("baseline"),
    floor: value("floor"),
    samples: {
      ours: samples.ours,
      baseline: samples.baseline,
      floor: samples.floor,
    },
  });
}

/** 5. Start-up: from spawning the process to its listening line. */
export async function startupScenario(
  context: Context,
): Promise<ScenarioResult> {
  const { plan, kinds } = context;
  const samples: PerKind<number[]> = {};
  const errors: PerKind<string> = {};
  const once = async (kind: ServerKind): Promise<number> => {
    const server = await context.live.server(
      kind,
      context.usersFile,
      context.startOptions(kind),
    );
    await context.live.end(server);
    return server.startupMs;
  };
  for (const kind of kinds) {
    try {
      await once(kind); // untimed: fills caches (Deno's transpiled modules)
      samples[kind] = [];
    } catch (error) {
      errors[kind] = describe(error);
    }
  }
  for (let run = 0; run < plan.startupRuns; run++) {
    for (const kind of kinds) {
      if (errors[kind] !== undefined) continue;
      try {
        samples[kind]?.push(await once(kind));
      } catch (error) {
        errors[kind] = describe(error);
      }
    }
  }
  for (const kind of kinds) {
    context.log(
      `start-up · ${kind}: ${
        errors[kind] ?? `${median(samples[kind] ?? []).toFixed(0)} ms`
      }`,
    );
  }
  return {
    rows: [
      sampledRow(
        "start-up",
        "process start to listening line (ms)",
        "lower",
        samples,
        errors,
      ),
    ],
    raw: { samplesMs: samples, errors },
  };
}

interface CapacityRaw {
  users: number;
  online: number;
  loginMs: number;
  loginErrors: string[];
  idleRssKiB: number;
  onlineRssKiB: number;
  rssPerUserKiB: number;
  loginCpuSeconds: number;
  toEach: { ok: number; failed: number; receivers: number; elapsedMs: number };
  fanOut?: FanOutResult[];
  dropped: number;
}

/**
 * 1. Capacity: log in N users with both links, then check that every one
 * still gets a `/to`; 4. fan-out with N online, where the plan asks for it.
 */
export async function capacityScenario(
  context: Context,
  users: number,
): Promise<{ capacity: ScenarioResult; fanOut: ScenarioResult | undefined }> {
  const { plan, kinds } = context;
  const raw: PerKind<CapacityRaw> = {};
  const errors: PerKind<string> = {};
  const withFanOut = plan.fanOutUsers.includes(users);
  for (const kind of kinds) {
    let server: ServerProcess | undefined;
    let load: LoadGenerator | undefined;
    try {
      server = await context.live.server(
        kind,
        context.usersFile,
        context.startOptions(kind),
      );
      await delay(SETTLE_MS);
      const idleRssKiB = await server.rssKiB();
      load = await context.live.load(server, users);
      const cpuBefore = await server.cpuSeconds();
      const login = await load.login();
      const loginCpuSeconds = await server.cpuSeconds() - cpuBefore;
      await delay(SETTLE_MS);
      const onlineRssKiB = await server.rssKiB();
      const toEach = await load.toEach();
      const fanOut: FanOutResult[] = [];
      if (withFanOut) {
        for (let run = 0; run < plan.fanOutRuns; run++) {
          fanOut.push(await load.toAll(run % users));
        }
      }
      const { dropped } = await load.counters();
      raw[kind] = {
        users,
        online: login.ok,
        loginMs: login.elapsedMs,
        loginErrors: login.errors,
        idleRssKiB,
        onlineRssKiB,
        rssPerUserKiB: (onlineRssKiB - idleRssKiB) / users,
        loginCpuSeconds,
        toEach,
        fanOut: withFanOut ? fanOut : undefined,
        dropped,
      };
      context.log(
        `capacity ${count(users)} · ${kind}: ${count(login.ok)} online in ` +
          `${login.elapsedMs.toFixed(0)} ms, ` +
          `${raw[kind].rssPerUserKiB.toFixed(1)} KiB/user, ` +
          `/to reached ${count(toEach.receivers)}` +
          (withFanOut
            ? `, /toall ${median(fanOut.map((f) => f.replyMs)).toFixed(1)} ms`
            : ""),
      );
    } catch (error) {
      errors[kind] = describe(error);
      context.log(`capacity ${count(users)} · ${kind}: error: ${errors[kind]}`);
    } finally {
      await context.live.end(server, load);
    }
  }

  const scenario = `capacity, ${count(users)} users`;
  const pick = (
    f: (r: CapacityRaw) => number | undefined,
  ): PerKind<number[]> => {
    const out: PerKind<number[]> = {};
    for (const kind of kinds) {
      const r = raw[kind];
      const v = r === undefined ? undefined : f(r);
      if (v !== undefined) out[kind] = [v];
    }
    return out;
  };
  const online = (kind: ServerKind): Value => {
    if (errors[kind] !== undefined) return "error";
    const r = raw[kind];
    if (r === undefined) return null;
    return r.online === users
      ? r.loginMs
      : `${count(r.online)}/${count(users)} online`;
  };
  const reached = (kind: ServerKind): Value => {
    if (errors[kind] !== undefined) return "error";
    const r = raw[kind];
    if (r === undefined) return null;
    return `${count(Math.min(r.toEach.receivers, r.toEach.ok))}/${
      count(users)
    }`;
  };
  const rows = [
    makeRow({
      scenario,
      figure: "time until all online (ms)",
      better: "lower",
      ours: online("ours"),
      baseline: online("baseline"),
      floor: online("floor"),
    }),
    sampledRow(
      scenario,
      "server RSS per online user (KiB)",
      "lower",
      pick((r) => r.rssPerUserKiB),
      errors,
    ),
    sampledRow(
      scenario,
      "server CPU per login (µs)",
      "lower",
      pick((r) => (r.loginCpuSeconds / Math.max(1, r.online)) * 1e6),
      errors,
    ),
    makeRow({
      scenario,
      figure: "users reached by a /to afterwards",
      better: "none",
      ours: reached("ours"),
      baseline: reached("baseline"),
      floor: reached("floor"),
    }),
  ];
  let fanOut: ScenarioResult | undefined;
  if (withFanOut) {
    fanOut = fanOutRows(users, raw, errors);
  }
  return { capacity: { rows, raw: { servers: raw, errors } }, fanOut };
}

function fanOutRows(
  online: number,
  raw: PerKind<{ fanOut?: FanOutResult[] }>,
  errors: PerKind<string>,
): ScenarioResult {
  const replyMs: PerKind<number[]> = {};
  const spreadMs: PerKind<number[]> = {};
  const incomplete: PerKind<string> = { ...errors };
  for (
    const [kind, r] of Object.entries(raw) as [
      ServerKind,
      { fanOut?: FanOutResult[] },
    ][]
  ) {
    const runs = r.fanOut ?? [];
    replyMs[kind] = runs.map((f) => f.replyMs);
    spreadMs[kind] = runs.map((f) => f.spreadMs);
    const bad = runs.find((f) =>
      f.receivers !== online - 1 || !f.reply.startsWith("303")
    );
    if (bad !== undefined && incomplete[kind] === undefined) {
      incomplete[kind] = `reply ${bad.reply}, ${bad.receivers} of ${
        online - 1
      } receivers`;
    }
  }
  const scenario = `/toall, ${count(online)} online`;
  return {
    rows: [
      sampledRow(
        scenario,
        "time from /toall to 303 (ms)",
        "lower",
        replyMs,
        incomplete,
      ),
      sampledRow(
        scenario,
        "spread of receipt times, first to last (ms)",
        "lower",
        spreadMs,
        incomplete,
      ),
    ],
    raw: {
      servers: Object.fromEntries(
        Object.entries(raw).map(([kind, r]) => [kind, r.fanOut]),
      ),
      errors: incomplete,
    },
  };
}

/** The measurements of one pair count's throughput windows. */
export interface ThroughputRaw {
  pairs: number;
  windows: {
    ms: number;
    delivered: number;
    failed: number;
    serverCpuSeconds: number;
    loadCpuSeconds: number;
  }[];
  deliveriesPerSecond: number[];
  cpuPerDeliveryUs: number[];
  loadCpuPerDeliveryUs: number[];
  dropped: number;
}

interface Snapshot {
  at: number;
  delivered: number;
  failed: number;
  serverCpu: number;
  loadCpu: number;
}

async function snapshot(
  server: ServerProcess,
  load: LoadGenerator,
): Promise<Snapshot> {
  const counters = await load.counters();
  const at = performance.now();
  const [serverCpu, ...loadCpus] = await Promise.all([
    server.cpuSeconds(),
    ...load.workerPids.map((pid) => cpuSeconds(pid)),
  ]);
  return {
    at,
    delivered: counters.delivered,
    failed: counters.failed,
    serverCpu,
    loadCpu: loadCpus.reduce((a, b) => a + b, 0),
  };
}

/** Where a throughput window runs. */
export interface LoopSetup {
  /** The plan, for the warm-up and window lengths. */
  plan: Plan;
  /** The server measured. */
  server: ServerProcess;
  /** The load generator, its users logged in. */
  load: LoadGenerator;
}

/** Options for {@linkcode throughputWindow}. */
export interface ThroughputWindowOptions {
  /** Senders and receivers; default user `2i` to `2i + 1`. */
  pairs?: [number, number][];
}

/**
 * One measured window of closed loops over `result.pairs` pairs: the loops
 * start, run `warmupMs`, are measured for `throughputWindowMs`, and stop.
 * The window is added to `result`.
 */
export async function throughputWindow(
  setup: LoopSetup,
  result: ThroughputRaw,
  options: ThroughputWindowOptions = {},
): Promise<void> {
  const { plan, server, load } = setup;
  const list = options.pairs ??
    Array.from(
      { length: result.pairs },
      (_, i): [number, number] => [2 * i, 2 * i + 1],
    );
  await load.startLoop(list, CONTENT);
  try {
    await delay(plan.warmupMs);
    const first = await snapshot(server, load);
    await delay(plan.throughputWindowMs);
    const last = await snapshot(server, load);
    const delivered = last.delivered - first.delivered;
    const window = {
      ms: last.at - first.at,
      delivered,
      failed: last.failed - first.failed,
      serverCpuSeconds: last.serverCpu - first.serverCpu,
      loadCpuSeconds: last.loadCpu - first.loadCpu,
    };
    result.windows.push(window);
    result.deliveriesPerSecond.push((delivered / window.ms) * 1000);
    result.cpuPerDeliveryUs.push(
      (window.serverCpuSeconds / Math.max(1, delivered)) * 1e6,
    );
    result.loadCpuPerDeliveryUs.push(
      (window.loadCpuSeconds / Math.max(1, delivered)) * 1e6,
    );
  } finally {
    result.dropped = (await load.stopLoop()).dropped;
  }
}

interface LatencyRaw {
  rate: number;
  runs: {
    sent: number;
    timed: number;
    delivered: number;
    failed: number;
    p50: number;
    p99: number;
    p999: number;
    max: number;
  }[];
}

/**
 * 4. Fan-out with 100 online, 2. throughput and 3. latency: one server per
 * implementation, 200 users, kept running from the first to the last.
 */
export async function messagingScenarios(context: Context): Promise<{
  fanOut: ScenarioResult | undefined;
  throughput: ScenarioResult;
  latency: ScenarioResult;
}> {
  const { plan, kinds, live } = context;
  const sessions = new Map<
    ServerKind,
    { server: ServerProcess; load: LoadGenerator }
  >();
  const errors: PerKind<string> = {};
  const fanOutRaw: PerKind<{ fanOut?: FanOutResult[] }> = {};
  const throughputRaw: PerKind<ThroughputRaw[]> = {};
  const latencyRaw: PerKind<LatencyRaw> = {};
  const fanOutOnline = plan.fanOutUsers.includes(100) ? 100 : undefined;
  const fail = async (kind: ServerKind, error: unknown): Promise<void> => {
    errors[kind] ??= describe(error);
    context.log(`messaging · ${kind}: error: ${errors[kind]}`);
    const session = sessions.get(kind);
    sessions.delete(kind);
    await live.end(session?.server, session?.load);
  };
  try {
    for (const kind of kinds) {
      try {
        const server = await live.server(
          kind,
          context.usersFile,
          context.startOptions(kind),
        );
        const load = await live.load(server, MESSAGING_USERS).catch(
          async (error) => {
            await live.end(server);
            throw error;
          },
        );
        sessions.set(kind, { server, load });
        const first = fanOutOnline ?? MESSAGING_USERS;
        const login = await load.login(0, first);
        if (login.ok !== first) {
          throw new Error(`login: ${login.errors.join("; ")}`);
        }
        if (fanOutOnline !== undefined) {
          const runs: FanOutResult[] = [];
          for (let run = 0; run < plan.fanOutRuns; run++) {
            runs.push(await load.toAll(run));
          }
          fanOutRaw[kind] = { fanOut: runs };
          context.log(
            `/toall ${fanOutOnline} · ${kind}: ${
              median(runs.map((r) => r.replyMs)).toFixed(2)
            } ms to 303`,
          );
          const rest = await load.login(first, MESSAGING_USERS);
          if (rest.ok !== MESSAGING_USERS - first) {
            throw new Error(`login: ${rest.errors.join("; ")}`);
          }
        }
      } catch (error) {
        await fail(kind, error);
      }
    }

    // Throughput: the servers take turns, window by window, so that
    // whatever else the machine does at the time weighs on all alike.
    for (const kind of sessions.keys()) throughputRaw[kind] = [];
    for (const [index, pairs] of plan.throughputPairs.entries()) {
      for (let run = 0; run < plan.throughputRuns; run++) {
        for (const [kind, { server, load }] of [...sessions]) {
          const results = throughputRaw[kind] ?? [];
          results[index] ??= {
            pairs,
            windows: [],
            deliveriesPerSecond: [],
            cpuPerDeliveryUs: [],
            loadCpuPerDeliveryUs: [],
            dropped: 0,
          };
          try {
            await throughputWindow({ plan, server, load }, results[index]);
          } catch (error) {
            await fail(kind, error);
          }
        }
      }
      for (const kind of sessions.keys()) {
        const result = throughputRaw[kind]?.[index];
        if (result === undefined) continue;
        context.log(
          `/to ${pairs} pairs · ${kind}: ${
            median(result.deliveriesPerSecond).toFixed(0)
          } deliveries/s, ${
            median(result.cpuPerDeliveryUs).toFixed(1)
          } µs server CPU each (load generator ${
            median(result.loadCpuPerDeliveryUs).toFixed(1)
          } µs)`,
        );
      }
    }

    // One offered load for all: a fraction of the lower maximum of ours and
    // the baseline, so that both can carry it.
    const maximum = (kind: ServerKind): number | undefined => {
      const runs = throughputRaw[kind] ?? [];
      return runs.length === 0
        ? undefined
        : Math.max(...runs.map((r) => median(r.deliveriesPerSecond)));
    };
    const compared = (["ours", "baseline"] as const).map(maximum).filter((m) =>
      m !== undefined
    );
    const reference = compared.length > 0
      ? Math.min(...compared)
      : Math.max(0, ...kinds.map(maximum).filter((m) => m !== undefined));
    const rate = Math.max(
      10,
      Math.round((reference * plan.latencyLoadFraction) / 10) * 10,
    );
    const latencyPairs: [number, number][] = [];
    for (let i = 0; i < Math.min(plan.latencyPairs, MESSAGING_USERS / 2); i++) {
      latencyPairs.push([2 * i, 2 * i + 1]);
    }
    for (const kind of sessions.keys()) latencyRaw[kind] = { rate, runs: [] };
    for (let run = 0; run < plan.latencyRuns; run++) {
      for (const [kind, session] of [...sessions]) {
        try {
          const open = await session.load.openLoop(
            latencyPairs,
            rate,
            plan.latencyDurationMs + plan.warmupMs,
            plan.warmupMs,
            CONTENT,
          );
          const sorted = sortedNumbers(open.latenciesMs);
          latencyRaw[kind]?.runs.push({
            sent: open.sent,
            timed: sorted.length,
            delivered: open.delivered,
            failed: open.failed,
            p50: percentile(sorted, 50),
            p99: percentile(sorted, 99),
            p999: percentile(sorted, 99.9),
            max: sorted.at(-1) ?? NaN,
          });
        } catch (error) {
          delete latencyRaw[kind];
          await fail(kind, error);
        }
      }
    }
    for (const [kind, result] of Object.entries(latencyRaw)) {
      const p = (key: "p50" | "p99" | "p999"): string =>
        median(result.runs.map((r) => r[key])).toFixed(2);
      context.log(
        `/to latency at ${count(rate)}/s · ${kind}: p50 ${p("p50")} ms, p99 ${
          p("p99")
        } ms, p99.9 ${p("p999")} ms`,
      );
    }

    const throughputRows: ResultRow[] = [];
    plan.throughputPairs.forEach((pairs, index) => {
      const scenario = `/to throughput, ${pairs} pair${pairs === 1 ? "" : "s"}`;
      const pick = (f: (r: ThroughputRaw) => number[]): PerKind<number[]> =>
        Object.fromEntries(
          Object.entries(throughputRaw)
            .filter(([, runs]) => runs[index] !== undefined)
            .map(([kind, runs]) => [kind, f(runs[index])]),
        );
      throughputRows.push(
        sampledRow(
          scenario,
          "deliveries per second",
          "higher",
          pick((r) => r.deliveriesPerSecond),
          errors,
        ),
        sampledRow(
          scenario,
          "server CPU per delivery (µs)",
          "lower",
          pick((r) => r.cpuPerDeliveryUs),
          errors,
        ),
      );
    });

    const latencyScenario = `/to latency, ${
      count(rate)
    }/s offered (${latencyPairs.length} senders)`;
    const latencyPick = (key: "p50" | "p99" | "p999"): PerKind<number[]> =>
      Object.fromEntries(
        Object.entries(latencyRaw).map((
          [kind, r],
        ) => [kind, r.runs.map((run) => run[key])]),
      );
    const latencyErrors: PerKind<string> = { ...errors };
    for (
      const [kind, r] of Object.entries(latencyRaw) as [
        ServerKind,
        LatencyRaw,
      ][]
    ) {
      const failed = r.runs.reduce((total, run) => total + run.failed, 0);
      if (failed > 0) {
        latencyErrors[kind] ??= `${failed} messages not delivered`;
      }
    }
    const latencyRows = [
      sampledRow(
        latencyScenario,
        "p50 send to 303 (ms)",
        "lower",
        latencyPick("p50"),
        latencyErrors,
      ),
      sampledRow(
        latencyScenario,
        "p99 send to 303 (ms)",
        "lower",
        latencyPick("p99"),
        latencyErrors,
      ),
      sampledRow(
        latencyScenario,
        "p99.9 send to 303 (ms)",
        "lower",
        latencyPick("p999"),
        latencyErrors,
      ),
    ];

    return {
      fanOut: fanOutOnline === undefined
        ? undefined
        : fanOutRows(fanOutOnline, fanOutRaw, errors),
      throughput: {
        rows: throughputRows,
        raw: { servers: throughputRaw, errors },
      },
      latency: {
        rows: latencyRows,
        raw: { rate, servers: latencyRaw, errors: latencyErrors },
      },
    };
  } finally {
    for (const { server, load } of sessions.values()) {
      await live.end(server, load);
    }
  }
}
