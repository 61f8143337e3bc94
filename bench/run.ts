/**
 * Runs the benchmark: every scenario against our server, the Python baseline
 * and the floor relay, in the same run; writes `bench/results.md` and
 * `bench/results.json` and prints the table.
 *
 * ```sh
 * deno task bench            # the quick set, under two minutes
 * deno task bench --full     # everything, longer and with more runs
 * deno task bench --cluster  # one process beside a cluster of three nodes
 * deno task bench --only=ours,floor --out=/tmp/bench
 * deno task bench --cpu-prof=/tmp/prof   # also profile our server (V8 .cpuprofile)
 * deno task bench --set=web   # only the web users' scenarios, merged into the results
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runClusterBench } from "./cluster_run.ts";
import { writeUsersFile } from "./load/users.ts";
import { CLUSTER_HEADING, extractSection, replaceSection } from "./sections.ts";
import { openFileLimit } from "./load/load_generator.ts";
import {
  describeMachine,
  type Machine,
  markdownTable,
  type ResultRow,
} from "./report.ts";
import {
  resultsMarkdown,
  type ResultsWithWeb,
  type WebResults,
  webTable,
} from "./web_report.ts";
import { webNotes, webScenarios } from "./web_scenarios.ts";
import {
  capacityScenario,
  type Context,
  FULL_PLAN,
  LiveProcesses,
  messagingScenarios,
  type Plan,
  QUICK_PLAN,
  type ScenarioResult,
  startupScenario,
} from "./scenarios.ts";
import {
  PYTHON,
  SERVER_KINDS,
  type ServerKind,
  type StartOptions,
} from "./servers.ts";

const BENCH_DIR = fileURLToPath(new URL(".", import.meta.url));
const USAGE =
  "usage: deno task bench [--full | --cluster] [--set=all|web] [--only=ours,baseline,floor] [--out=DIR] [--cpu-prof=DIR]";

async function commandOutput(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    return (decoder.decode(stdout) + decoder.decode(stderr)).trim();
  } catch {
    return "unknown";
  }
}

function readOr(path: string, fallback = ""): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

/** What the benchmark runs on. */
export async function describeThisMachine(): Promise<Machine> {
  const cpuinfo = readOr("/proc/cpuinfo");
  const meminfo = readOr("/proc/meminfo");
  const memKiB = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  return {
    nproc: navigator.hardwareConcurrency,
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memoryGiB: Math.round(memKiB / 1024 / 1024),
    kernel: readOr("/proc/sys/kernel/osrelease", "unknown").trim(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    python: (await commandOutput(PYTHON, ["--version"])).replace(
      /^Python /,
      "",
    ),
    openFiles: openFileLimit(),
  };
}

/** Whether our server takes `--quiet` (log failures only). */
async function oursTakesQuiet(
  usersFile: string,
  live: LiveProcesses,
): Promise<boolean> {
  try {
    const server = await live.server("ours", usersFile, { quiet: true });
    await live.end(server);
    return true;
  } catch {
    return false;
  }
}

const NOTES = (plan: Plan, quiet: boolean): string[] => [
  "**Ratio** is how many times better ours is than the baseline (above 1: " +
  "ours is better; for times, memory and CPU it is baseline ÷ ours). " +
  "**Floor** is the bare relay (`bench/floor.ts`) on the same runtime, and " +
  "ours as a percentage of its performance. Each value is the median of " +
  "its runs; every server runs as its own process, and the load generator's " +
  "users in worker processes of their own, on the same machine.",
  "**Baseline**: `bench/baseline/server.py`, the handout's design in plain " +
  "Python 3 (a thread per connection, a lock per receiver's Lb, `/toall` to " +
  "one receiver after another). **Capacity**: users log in 100 at a time; " +
  "memory is the server's VmRSS with everyone online minus its idle VmRSS, " +
  "per user; CPU is utime + stime from `/proc/<pid>/stat`, all threads. " +
  "**Throughput**: closed loops, each sender waits for `303` before its " +
  `next \`/to\`; ${plan.throughputRuns} windows of ` +
  `${plan.throughputWindowMs / 1000} s per pair count and server, each ` +
  `after ${plan.warmupMs} ms of warm-up, the servers taking turns. ` +
  "**Latency**: open loop at a fixed rate (half the lower of ours' " +
  "and the baseline's best throughput), from writing `/to` to reading " +
  `\`303\`, ${plan.latencyDurationMs / 1000} s per run. **Fan-out**: one ` +
  "`/toall` at a time; the spread is from the first receiver's receipt to " +
  "the last one's.",
  quiet
    ? "Ours and the baseline ran with `--quiet` (they log failures only)."
    : "Ours and the baseline logged every connection, login and logout to " +
      "standard error (discarded: our server has no `--quiet` yet).",
];

async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        full: { type: "boolean", default: false },
        cluster: { type: "boolean", default: false },
        only: { type: "string" },
        out: { type: "string" },
        "cpu-prof": { type: "string" },
        set: { type: "string", default: "all" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    console.error(
      `error: ${error instanceof Error ? error.message : error}\n${USAGE}`,
    );
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const kinds = values.only === undefined
    ? SERVER_KINDS
    : values.only.split(",").map((k) => k.trim()) as ServerKind[];
  if (
    kinds.some((kind) => !SERVER_KINDS.includes(kind)) || kinds.length === 0
  ) {
    console.error(`error: --only takes ${SERVER_KINDS.join(", ")}\n${USAGE}`);
    return 2;
  }
  if (values.set !== "all" && values.set !== "web") {
    console.error(`error: --set takes all or web\n${USAGE}`);
    return 2;
  }
  const webOnly = values.set === "web";
  const plan = values.full ? FULL_PLAN : QUICK_PLAN;
  const outDir = values.out ?? BENCH_DIR;
  const cpuProf = values["cpu-prof"];
  const command = ["deno task bench", ...args].join(" ");
  const started = performance.now();
  const date = new Date().toISOString();
  const log = (line: string): void => {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(`[bench ${seconds.padStart(5)} s] ${line}`);
  };

  const live = new LiveProcesses();
  const tempDir = await Deno.makeTempDir({ prefix: "im_bench_" });
  const onSignal = (): void => {
    console.error("[bench] interrupted: stopping every process");
    live.killAll();
    try {
      Deno.removeSync(tempDir, { recursive: true });
    } catch {
      // Nothing to remove.
    }
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const machine = await describeThisMachine();
    if (values.cluster) {
      log(`cluster set on ${describeMachine(machine)}`);
      return await runClusterBench({
        outDir,
        command,
        machine,
        log,
        live,
        tempDir,
        started,
        takesQuiet: (usersFile) => oursTakesQuiet(usersFile, live),
        format: (paths) =>
          commandOutput(Deno.execPath(), ["fmt", "--quiet", ...paths]),
      });
    }
    log(`${plan.mode} set on ${describeMachine(machine)}`);
    const users = webOnly
      ? Math.max(plan.webCapacityUsers, 400)
      : Math.max(...plan.capacityUsers, ...plan.fanOutUsers, 400);
    const usersFile = await writeUsersFile(tempDir, users);
    const quiet = await oursTakesQuiet(usersFile, live);
    log(
      quiet
        ? "our server takes --quiet"
        : "our server has no --quiet yet: its log is discarded",
    );
    const startOptions = (kind: ServerKind): StartOptions => ({
      // The same logging for ours and the baseline: failures only if ours
      // can, everything otherwise.
      quiet: kind === "floor" ? undefined : quiet,
      denoFlags: kind === "ours" && cpuProf !== undefined
        ? ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`]
        : undefined,
    });
    const context: Context = {
      plan,
      usersFile,
      kinds,
      startOptions,
      log,
      live,
    };

    const runWeb = async (): Promise<WebResults> => {
      const webStarted = performance.now();
      const web = await webScenarios(context);
      return {
        mode: plan.mode,
        command,
        date,
        durationSeconds: (performance.now() - webStarted) / 1000,
        machine,
        rows: web.rows,
        notes: webNotes(context),
        raw: web.raw,
      };
    };
    if (webOnly) {
      return await writeWebOnly(outDir, await runWeb());
    }

    const raw: Record<string, unknown> = {};
    const startup = await startupScenario(context);
    raw.startup = startup.raw;
    const messaging = await messagingScenarios(context);
    raw.throughput = messaging.throughput.raw;
    raw.latency = messaging.latency.raw;
    const capacity: ScenarioResult[] = [];
    const fanOut: ScenarioResult[] = [];
    if (messaging.fanOut !== undefined) fanOut.push(messaging.fanOut);
    for (const n of plan.capacityUsers) {
      const result = await capacityScenario(context, n);
      capacity.push(result.capacity);
      raw[`capacity_${n}`] = result.capacity.raw;
      if (result.fanOut !== undefined) fanOut.push(result.fanOut);
    }
    raw.fanOut = fanOut.map((f) => f.raw);

    const rows: ResultRow[] = [
      ...startup.rows,
      ...capacity.flatMap((c) => c.rows),
      ...messaging.throughput.rows,
      ...messaging.latency.rows,
      ...fanOut.flatMap((f) => f.rows),
    ];
    const web = kinds.includes("ours") ? await runWeb() : undefined;
    const results: ResultsWithWeb = {
      mode: plan.mode,
      command,
      date,
      durationSeconds: (performance.now() - started) / 1000,
      machine,
      rows,
      notes: NOTES(plan, quiet),
      raw,
      web,
    };
    await Deno.mkdir(outDir, { recursive: true });
    const mdPath = join(outDir, "results.md");
    const jsonPath = join(outDir, "results.json");
    await Deno.writeTextFile(
      mdPath,
      keepSection(resultsMarkdown(results), readOr(mdPath), CLUSTER_HEADING),
    );
    await Deno.writeTextFile(jsonPath, JSON.stringify(results, null, 2) + "\n");
    // Keep the files as `deno fmt` would write them, so that CI's format
    // check passes whether or not they are committed.
    await commandOutput(Deno.execPath(), ["fmt", "--quiet", mdPath, jsonPath]);
    console.log(`\nMachine: ${describeMachine(machine)}`);
    console.log(`Command: ${command}\n`);
    console.log(markdownTable(rows));
    if (web !== undefined) console.log(`\n${webTable(web.rows)}`);
    console.log(
      `\nWrote ${mdPath} and ${jsonPath} in ${
        results.durationSeconds.toFixed(0)
      } s.`,
    );
    return 0;
  } finally {
    await live.endAll();
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/**
 * Writes the web scenarios' results into the results files of `outDir`,
 * keeping the rest of an earlier run's results as they were.
 */
async function writeWebOnly(outDir: string, web: WebResults): Promise<number> {
  const mdPath = join(outDir, "results.md");
  const jsonPath = join(outDir, "results.json");
  let results: ResultsWithWeb;
  try {
    results = JSON.parse(await Deno.readTextFile(jsonPath));
  } catch {
    results = {
      mode: web.mode,
      command: web.command,
      date: web.date,
      durationSeconds: 0,
      machine: web.machine,
      rows: [],
      notes: ["Only the web scenarios have been run here."],
      raw: {},
    };
  }
  results.web = web;
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(
    mdPath,
    keepSection(resultsMarkdown(results), readOr(mdPath), CLUSTER_HEADING),
  );
  await Deno.writeTextFile(jsonPath, JSON.stringify(results, null, 2) + "\n");
  await commandOutput(Deno.execPath(), ["fmt", "--quiet", mdPath, jsonPath]);
  console.log(`\nMachine: ${describeMachine(web.machine)}`);
  console.log(`Command: ${web.command}\n`);
  console.log(webTable(web.rows));
  console.log(
    `\nWrote the web section of ${mdPath} and ${jsonPath} in ${
      web.durationSeconds.toFixed(0)
    } s.`,
  );
  return 0;
}

/**
 * `markdown` with the section under `heading` that `previous` had, if it
 * had one: another run wrote it.
 */
function keepSection(
  markdown: string,
  previous: string,
  heading: string,
): string {
  const kept = extractSection(previous, heading);
  return kept === "" ? markdown : replaceSection(markdown, heading, kept);
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
