/**
 * `deno task bench --cluster`: runs the cluster benchmark (`cluster.ts`) and
 * writes its section of `bench/results.md` and `bench/results_cluster.json`,
 * keeping the rest of `results.md` as it was.
 *
 * @module
 */

import { join } from "node:path";
import { CLUSTER_PLAN, clusterBench, clusterTable } from "./cluster.ts";
import { writeUsersFile } from "./load/users.ts";
import { describeMachine, type Machine } from "./report.ts";
import type { LiveProcesses } from "./scenarios.ts";
import { CLUSTER_HEADING, replaceSection } from "./sections.ts";

/** What {@linkcode runClusterBench} needs from the run. */
export interface ClusterRun {
  /** Where the results files go. */
  outDir: string;
  /** The command line, for the record. */
  command: string;
  /** The machine, for the record. */
  machine: Machine;
  /** Progress lines. */
  log: (line: string) => void;
  /** Processes to end if the run fails. */
  live: LiveProcesses;
  /** A directory for the users file. */
  tempDir: string;
  /** When the run started, on `performance.now()`'s clock. */
  started: number;
  /** Whether our server takes `--quiet`, tried with `usersFile`. */
  takesQuiet: (usersFile: string) => Promise<boolean>;
  /** Runs `deno fmt` on the files written. */
  format: (paths: string[]) => Promise<unknown>;
}

/** Runs the cluster benchmark and writes its results; resolves to 0. */
export async function runClusterBench(run: ClusterRun): Promise<number> {
  const usersFile = await writeUsersFile(
    run.tempDir,
    CLUSTER_PLAN.clusterUsers + 1,
  );
  const { rows, raw } = await clusterBench({
    usersFile,
    log: run.log,
    live: run.live,
    quiet: await run.takesQuiet(usersFile),
  });
  const seconds = (performance.now() - run.started) / 1000;
  const section = [
    CLUSTER_HEADING,
    "",
    `Command: \`${run.command}\`, ${new Date().toISOString()}, ${
      seconds.toFixed(0)
    } s. One run on ${describeMachine(run.machine)}; every process (nodes, ` +
    "`nats-server`, load generator) shares the same two cores.",
    "",
    clusterTable(rows),
  ].join("\n");
  await Deno.mkdir(run.outDir, { recursive: true });
  const mdPath = join(run.outDir, "results.md");
  const jsonPath = join(run.outDir, "results_cluster.json");
  let markdown = "";
  try {
    markdown = await Deno.readTextFile(mdPath);
  } catch {
    // No results yet: the section is all there is.
  }
  await Deno.writeTextFile(
    mdPath,
    replaceSection(markdown, CLUSTER_HEADING, section),
  );
  await Deno.writeTextFile(
    jsonPath,
    JSON.stringify(
      { command: run.command, machine: run.machine, rows, raw },
      null,
      2,
    ) + "\n",
  );
  await run.format([mdPath, jsonPath]);
  console.log(clusterTable(rows));
  console.log(`\nWrote ${mdPath} and ${jsonPath} in ${seconds.toFixed(0)} s.`);
  return 0;
}
