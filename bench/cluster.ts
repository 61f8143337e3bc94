/**
 * `deno task bench --cluster`: our server as one process and as a cluster of
 * three node processes on one `nats-server`, side by side in one run on this
 * machine, with the load generator's users spread over the nodes in turn
 * (user `i` on node `i mod 3`), so that every pair of consecutive users, and
 * every `/to` below, crosses nodes.
 *
 * - Capacity: 8,000 users on one process; 24,000 on the cluster (8,000 a
 *   node). Time until all are online, memory per user on each node, and
 *   every user reached by a `/to` from a user on another node.
 * - `/to` throughput at 100 pairs: closed loops, deliveries per second and
 *   CPU per delivery (all the cluster's processes, `nats-server` included).
 * - `/toall` to 3,000 users: from `/toall` to its `303`.
 *
 * @module
 */

import { delay } from "../lib/async/delay.ts";
import { startNatsServer } from "../tools/nats_server.ts";
import type { LoadGenerator } from "./load/load_generator.ts";
import { formatNumber } from "./report.ts";
import { CONTENT, type LiveProcesses } from "./scenarios.ts";
import { cpuSeconds, rssKiB, type ServerProcess } from "./servers.ts";
import { median } from "./stats.ts";

/** What the cluster benchmark measures, and for how long. */
export const CLUSTER_PLAN = {
  singleUsers: 8_000,
  clusterUsers: 24_000,
  nodes: 3,
  fanOutUsers: 3_000,
  fanOutRuns: 5,
  pairs: 100,
  windows: 3,
  windowMs: 2_000,
  warmupMs: 500,
} as const;

/** Users online while loops and fan-outs run on the side. */
const SETTLE_MS = 500;

/** One row: a figure for one process and for the cluster. */
export interface ClusterRow {
  /** What was measured. */
  scenario: string;
  /** The figure and its unit. */
  figure: string;
  /** One process. */
  single: number | string;
  /** The cluster. */
  cluster: number | string;
  /** The target, in words. */
  target: string;
  /** Whether the target was met, if it has one. */
  met?: boolean;
}

/** What the cluster benchmark needs from the run. */
export interface ClusterContext {
  /** A users file with at least 24,000 users. */
  usersFile: string;
  /** Progress lines. */
  log: (line: string) => void;
  /** Processes to end if the run fails. */
  live: LiveProcesses;
  /** Whether our server is started with `--quiet`. */
  quiet: boolean;
}

/** The servers of one side: one process, or the nodes of a cluster. */
interface Side extends AsyncDisposable {
  servers: ServerProcess[];
  /** Every process whose CPU counts: the servers, and `nats-server`. */
  pids: number[];
}

async function startSide(
  context: ClusterContext,
  nodes: number,
): Promise<Side> {
  const quiet = context.quiet;
  if (nodes === 1) {
    const server = await context.live.server("ours", context.usersFile, {
      quiet,
    });
    return {
      servers: [server],
      pids: [server.pid],
      [Symbol.asyncDispose]: () => context.live.end(server),
    };
  }
  const nats = await startNatsServer();
  const servers: ServerProcess[] = [];
  const dispose = async () => {
    for (const server of servers) await context.live.end(server);
    await nats[Symbol.asyncDispose]();
  };
  try {
    for (let i = 1; i <= nodes; i++) {
      servers.push(
        await context.live.server("ours", context.usersFile, {
          quiet,
          args: [`--cluster=${nats.url}`, `--node-name=n${i}`],
        }),
      );
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return {
    servers,
    pids: [...servers.map((s) => s.pid), nats.pid],
    [Symbol.asyncDispose]: dispose,
  };
}

async function loadFor(
  context: ClusterContext,
  side: Side,
  users: number,
): Promise<LoadGenerator> {
  return await context.live.load(side.servers[0], users, {
    ports: side.servers.map((server) => server.port),
  });
}

async function totalCpu(pids: number[]): Promise<number> {
  const all = await Promise.all(pids.map((pid) => cpuSeconds(pid)));
  return all.reduce((a, b) => a + b, 0);
}

interface CapacityFigures {
  onlineMs: number;
  online: number;
  rssPerUserKiB: number;
  reached: number;
}

/** Logs in `users`, reads each server's memory, sends a `/to` to each. */
async function capacity(
  context: ClusterContext,
  nodes: number,
  users: number,
): Promise<CapacityFigures> {
  await using side = await startSide(context, nodes);
  await delay(SETTLE_MS);
  const idle = await Promise.all(side.servers.map((s) => rssKiB(s.pid)));
  const load = await loadFor(context, side, users);
  try {
    const login = await load.login();
    await delay(SETTLE_MS);
    const online = await Promise.all(side.servers.map((s) => rssKiB(s.pid)));
    const perNode = users / nodes;
    const perUser = online.map((rss, i) => (rss - idle[i]) / perNode);
    const toEach = await load.toEach();
    return {
      onlineMs: login.elapsedMs,
      online: login.ok,
      rssPerUserKiB: median(perUser),
      reached: Math.min(toEach.receivers, toEach.ok),
    };
  } finally {
    await context.live.end(undefined, load);
  }
}

/** Median `/toall` time to `users - 1` receivers. */
async function fanOut(
  context: ClusterContext,
  nodes: number,
  users: number,
): Promise<number> {
  await using side = await startSide(context, nodes);
  const load = await loadFor(context, side, users);
  try {
    const login = await load.login();
    if (login.ok !== users) throw new Error(login.errors.join("; "));
    const times: number[] = [];
    for (let run = 0; run < CLUSTER_PLAN.fanOutRuns; run++) {
      const result = await load.toAll(run);
      if (result.reply.startsWith("303")) times.push(result.replyMs);
    }
    return median(times);
  } finally {
    await context.live.end(undefined, load);
  }
}

/** Deliveries per second and CPU per delivery at 100 pairs. */
async function throughput(
  context: ClusterContext,
  nodes: number,
): Promise<{ perSecond: number; cpuUs: number }> {
  const { pairs, windows, windowMs, warmupMs } = CLUSTER_PLAN;
  await using side = await startSide(context, nodes);
  const load = await loadFor(context, side, 2 * pairs);
  try {
    const login = await load.login();
    if (login.ok !== 2 * pairs) throw new Error(login.errors.join("; "));
    const list: [number, number][] = [];
    for (let i = 0; i < pairs; i++) list.push([2 * i, 2 * i + 1]);
    const rates: number[] = [];
    const cpus: number[] = [];
    for (let run = 0; run < windows; run++) {
      await load.startLoop(list, CONTENT);
      try {
        await delay(warmupMs);
        const before = {
          counters: await load.counters(),
          at: performance.now(),
        };
        const cpuBefore = await totalCpu(side.pids);
        await delay(windowMs);
        const after = {
          counters: await load.counters(),
          at: performance.now(),
        };
        const cpuAfter = await totalCpu(side.pids);
        const delivered = after.counters.delivered - before.counters.delivered;
        rates.push(delivered / (after.at - before.at) * 1000);
        cpus.push((cpuAfter - cpuBefore) / Math.max(1, delivered) * 1e6);
      } finally {
        await load.stopLoop();
      }
    }
    return { perSecond: median(rates), cpuUs: median(cpus) };
  } finally {
    await context.live.end(undefined, load);
  }
}

/** Runs the cluster benchmark; the rows of its table, and the raw figures. */
export async function clusterBench(
  context: ClusterContext,
): Promise<{ rows: ClusterRow[]; raw: unknown }> {
  const plan = CLUSTER_PLAN;
  const { log } = context;
  const single = await capacity(context, 1, plan.singleUsers);
  log(`capacity · one process: ${JSON.stringify(single)}`);
  const cluster = await capacity(context, plan.nodes, plan.clusterUsers);
  log(`capacity · cluster: ${JSON.stringify(cluster)}`);
  const singleTo = await throughput(context, 1);
  log(`/to 100 pairs · one process: ${JSON.stringify(singleTo)}`);
  const clusterTo = await throughput(context, plan.nodes);
  log(`/to 100 pairs · cluster: ${JSON.stringify(clusterTo)}`);
  const singleAll = await fanOut(context, 1, plan.fanOutUsers + 1);
  log(`/toall 3,000 · one process: ${singleAll.toFixed(1)} ms`);
  const clusterAll = await fanOut(context, plan.nodes, plan.fanOutUsers + 1);
  log(`/toall 3,000 · cluster: ${clusterAll.toFixed(1)} ms`);

  const count = (n: number) => n.toLocaleString("en-US");
  const rows: ClusterRow[] = [
    {
      scenario: "capacity",
      figure: "users online",
      single: `${count(single.online)}/${count(plan.singleUsers)}`,
      cluster: `${count(cluster.online)}/${count(plan.clusterUsers)}`,
      target: "24,000 on the cluster",
      met: cluster.online === plan.clusterUsers,
    },
    {
      scenario: "capacity",
      figure: "time until all online (ms)",
      single: single.onlineMs,
      cluster: cluster.onlineMs,
      target: "",
    },
    {
      scenario: "capacity",
      figure: "users reached by a /to from another node",
      single: `${count(single.reached)}/${count(plan.singleUsers)}`,
      cluster: `${count(cluster.reached)}/${count(plan.clusterUsers)}`,
      target: "every one",
      met: cluster.reached === plan.clusterUsers,
    },
    {
      scenario: "capacity",
      figure: "server RSS per online user, per node (KiB)",
      single: single.rssPerUserKiB,
      cluster: cluster.rssPerUserKiB,
      target: "within 10% of one process",
      met: cluster.rssPerUserKiB <= single.rssPerUserKiB * 1.1,
    },
    {
      scenario: "/to, 100 pairs",
      figure: "deliveries per second",
      single: singleTo.perSecond,
      cluster: clusterTo.perSecond,
      target: "at least 50% of one process",
      met: clusterTo.perSecond >= singleTo.perSecond * 0.5,
    },
    {
      scenario: "/to, 100 pairs",
      figure: "CPU per delivery, all processes (µs)",
      single: singleTo.cpuUs,
      cluster: clusterTo.cpuUs,
      target: "",
    },
    {
      scenario: "/toall, 3,000 receivers",
      figure: "time from /toall to 303 (ms)",
      single: singleAll,
      cluster: clusterAll,
      target: "at most 1.5 times one process",
      met: clusterAll <= singleAll * 1.5,
    },
  ];
  return {
    rows,
    raw: { single, cluster, singleTo, clusterTo, singleAll, clusterAll },
  };
}

/** The rows as a Markdown table. */
export function clusterTable(rows: readonly ClusterRow[]): string {
  const cell = (value: number | string) =>
    typeof value === "number" ? formatNumber(value) : value;
  const lines = [
    "| Scenario | Figure | One process | Cluster of 3 | Target | Met? |",
    "| --- | --- | ---: | ---: | --- | --- |",
  ];
  for (const row of rows) {
    const met = row.met === undefined ? "" : row.met ? "yes" : "no";
    lines.push(
      `| ${row.scenario} | ${row.figure} | ${cell(row.single)} | ${
        cell(row.cluster)
      } | ${row.target} | ${met} |`,
    );
  }
  return lines.join("\n");
}
