/**
 * The web scenarios: browser users (WebSocket clients of the web port, no
 * browser) beside terminal users, on our server started with `--web=0`.
 *
 * 1. **Capacity**: 1,000 users online, once all terminal users and once
 *    all browser users, each on a fresh server: the server's memory and
 *    CPU per user.
 * 2. **`/to` throughput** in closed loops, with 200 terminal and 200
 *    browser users online on one server: terminal → terminal (the
 *    reference), web → web, web → terminal and terminal → web, the
 *    directions taking turns window by window.
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";
import type { LoadGenerator } from "./load/load_generator.ts";
import {
  type Context,
  type ThroughputRaw,
  throughputWindow,
} from "./scenarios.ts";
import type { ServerProcess } from "./servers.ts";
import { median } from "./stats.ts";
import { WEB_TARGET, type WebRow, webRow } from "./web_report.ts";

/** Users of each kind online in the throughput scenario. */
const USERS_PER_KIND = 200;
/** Time a fresh server is left alone before its memory is read. */
const SETTLE_MS = 300;

type Kind = "tcp" | "web";

/** A direction of `/to`: who sends, who receives. */
type Direction = "tcp → tcp" | "web → web" | "web → tcp" | "tcp → web";

const DIRECTIONS: readonly Direction[] = [
  "tcp → tcp",
  "web → web",
  "web → tcp",
  "tcp → web",
];

interface CapacityRaw {
  users: number;
  online: number;
  loginMs: number;
  idleRssKiB: number;
  onlineRssKiB: number;
  rssPerUserKiB: number;
  cpuPerLoginUs: number;
  reached: number;
}

/** What the web scenarios measured: table rows and raw figures. */
export interface WebScenarioResult {
  /** The rows, TCP beside web. */
  rows: WebRow[];
  /** Every measurement. */
  raw: Record<string, unknown>;
}

function count(value: number): string {
  return value.toLocaleString("en-US");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function webServer(context: Context): Promise<ServerProcess> {
  return await context.live.server("ours", context.usersFile, {
    ...context.startOptions("ours"),
    web: true,
  });
}

async function capacityOnce(
  context: Context,
  kind: Kind,
  users: number,
): Promise<CapacityRaw> {
  let server: ServerProcess | undefined;
  let load: LoadGenerator | undefined;
  try {
    server = await webServer(context);
    await delay(SETTLE_MS);
    const idleRssKiB = await server.rssKiB();
    load = await context.live.load(server, users, {
      webFrom: kind === "web" ? 0 : undefined,
    });
    const cpuBefore = await server.cpuSeconds();
    const login = await load.login();
    const cpu = await server.cpuSeconds() - cpuBefore;
    if (login.ok !== users) {
      throw new Error(`${login.ok} of ${users} online: ${login.errors[0]}`);
    }
    await delay(SETTLE_MS);
    const onlineRssKiB = await server.rssKiB();
    const toEach = await load.toEach();
    return {
      users,
      online: login.ok,
      loginMs: login.elapsedMs,
      idleRssKiB,
      onlineRssKiB,
      rssPerUserKiB: (onlineRssKiB - idleRssKiB) / users,
      cpuPerLoginUs: (cpu / users) * 1e6,
      reached: Math.min(toEach.receivers, toEach.ok),
    };
  } finally {
    await context.live.end(server, load);
  }
}

/** The pairs of one direction: `pairs` senders, each with its receiver. */
function pairsOf(direction: Direction, pairs: number): [number, number][] {
  const web = USERS_PER_KIND;
  return Array.from({ length: pairs }, (_, i): [number, number] => {
    switch (direction) {
      case "tcp → tcp":
        return [2 * i, 2 * i + 1];
      case "web → web":
        return [web + 2 * i, web + 2 * i + 1];
      case "web → tcp":
        return [web + 2 * i, 2 * i + 1];
      case "tcp → web":
        return [2 * i, web + 2 * i + 1];
    }
  });
}

async function throughput(
  context: Context,
): Promise<Map<number, Map<Direction, ThroughputRaw>>> {
  const { plan } = context;
  const results = new Map<number, Map<Direction, ThroughputRaw>>();
  let server: ServerProcess | undefined;
  let load: LoadGenerator | undefined;
  try {
    server = await webServer(context);
    load = await context.live.load(server, 2 * USERS_PER_KIND, {
      webFrom: USERS_PER_KIND,
    });
    const login = await load.login();
    if (login.ok !== 2 * USERS_PER_KIND) {
      throw new Error(`login: ${login.errors.join("; ")}`);
    }
    for (const pairs of plan.webThroughputPairs) {
      const byDirection = new Map<Direction, ThroughputRaw>();
      results.set(pairs, byDirection);
      for (const direction of DIRECTIONS) {
        byDirection.set(direction, {
          pairs,
          windows: [],
          deliveriesPerSecond: [],
          cpuPerDeliveryUs: [],
          loadCpuPerDeliveryUs: [],
          dropped: 0,
        });
      }
      for (let run = 0; run < plan.throughputRuns; run++) {
        for (const direction of DIRECTIONS) {
          await throughputWindow(
            { plan, server, load },
            byDirection.get(direction)!,
            { pairs: pairsOf(direction, pairs) },
          );
        }
      }
      for (const [direction, raw] of byDirection) {
        context.log(
          `web /to ${pairs} pairs · ${direction}: ${
            median(raw.deliveriesPerSecond).toFixed(0)
          } deliveries/s, ${
            median(raw.cpuPerDeliveryUs).toFixed(1)
          } µs server CPU each`,
        );
      }
    }
    return results;
  } finally {
    await context.live.end(server, load);
  }
}

/** Runs both web scenarios and returns their rows. */
export async function webScenarios(
  context: Context,
): Promise<WebScenarioResult> {
  const users = context.plan.webCapacityUsers;
  const capacity: Partial<Record<Kind, CapacityRaw | string>> = {};
  for (const kind of ["tcp", "web"] as const) {
    try {
      const raw = await capacityOnce(context, kind, users);
      capacity[kind] = raw;
      context.log(
        `web capacity ${count(users)} · ${kind}: ` +
          `${raw.rssPerUserKiB.toFixed(1)} KiB/user, ` +
          `${raw.cpuPerLoginUs.toFixed(0)} µs CPU per login`,
      );
    } catch (error) {
      capacity[kind] = describe(error);
      context.log(`web capacity · ${kind}: error: ${capacity[kind]}`);
    }
  }
  let loops: Map<number, Map<Direction, ThroughputRaw>> | string;
  try {
    loops = await throughput(context);
  } catch (error) {
    loops = describe(error);
    context.log(`web throughput: error: ${loops}`);
  }

  const scenario = `capacity, ${count(users)} users`;
  const figure = (
    kind: Kind,
    pick: (raw: CapacityRaw) => number | string,
  ): number | string => {
    const raw = capacity[kind];
    return raw === undefined || typeof raw === "string" ? "error" : pick(raw);
  };
  const rows: WebRow[] = [
    webRow({
      scenario,
      figure: "time until all online (ms)",
      tcp: figure("tcp", (r) => r.loginMs),
      web: figure("web", (r) => r.loginMs),
    }),
    webRow({
      scenario,
      figure: "server RSS per online user (KiB)",
      tcp: figure("tcp", (r) => r.rssPerUserKiB),
      web: figure("web", (r) => r.rssPerUserKiB),
      target: WEB_TARGET,
    }),
    webRow({
      scenario,
      figure: "server CPU per login (µs)",
      tcp: figure("tcp", (r) => r.cpuPerLoginUs),
      web: figure("web", (r) => r.cpuPerLoginUs),
    }),
    webRow({
      scenario,
      figure: "users reached by a /to afterwards",
      tcp: figure("tcp", (r) => `${count(r.reached)}/${count(users)}`),
      web: figure("web", (r) => `${count(r.reached)}/${count(users)}`),
    }),
  ];
  for (const pairs of context.plan.webThroughputPairs) {
    const byDirection = typeof loops === "string"
      ? undefined
      : loops.get(pairs);
    const value = (direction: Direction, key: keyof ThroughputRaw) => {
      const raw = byDirection?.get(direction);
      const samples = raw?.[key] as number[] | undefined;
      return samples === undefined || samples.length === 0
        ? { value: "error", samples: undefined }
        : { value: median(samples), samples };
    };
    for (const direction of DIRECTIONS.slice(1)) {
      const scenario = `/to throughput, ${pairs} pairs, ${direction}`;
      for (
        const [figure, key, target] of [
          ["deliveries per second", "deliveriesPerSecond", undefined],
          ["server CPU per delivery (µs)", "cpuPerDeliveryUs", WEB_TARGET],
        ] as const
      ) {
        const tcp = value("tcp → tcp", key);
        const web = value(direction, key);
        rows.push(webRow({
          scenario,
          figure,
          tcp: tcp.value,
          web: web.value,
          target,
          samples: { tcp: tcp.samples, web: web.samples },
        }));
      }
    }
  }
  return {
    rows,
    raw: {
      capacity,
      throughput: typeof loops === "string" ? loops : Object.fromEntries(
        [...loops].map(([pairs, byDirection]) => [
          pairs,
          Object.fromEntries(byDirection),
        ]),
      ),
    },
  };
}

/** Notes under the web users' table. */
export function webNotes(context: Context): string[] {
  const { plan } = context;
  return [
    "**TCP users** are terminal clients (La and Lb over TCP), **web users** " +
    "WebSocket clients of the web port speaking the page's frames (no " +
    "browser; each confirms a chat frame as soon as it arrives), of the same " +
    "server (`server.ts --web=0`, `--quiet`) in the same run. **Web ÷ TCP** " +
    `is the web figure over the TCP one; the target is at most ${WEB_TARGET}× ` +
    "for memory per user and server CPU per delivery.",
    `**Capacity**: ${count(plan.webCapacityUsers)} users log in 100 at a ` +
    "time, on a fresh server for each kind; memory is VmRSS with everyone " +
    "online minus idle VmRSS, per user. **Throughput**: " +
    `${USERS_PER_KIND} users of each kind online on one server; closed ` +
    "loops, each sender sending its next `/to` on the reply to its last; " +
    `${plan.throughputRuns} windows of ${plan.throughputWindowMs / 1000} s ` +
    "per direction, after a warm-up each, the directions taking turns. The " +
    "TCP column of every throughput row is terminal → terminal in the same " +
    "windows' turns. The pages' `/list` polling is not simulated.",
  ];
}
