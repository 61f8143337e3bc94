/**
 * What the conformance kit's tests share: the Python targets under
 * `tests/fixtures/conformance/` (each with a `--flaw=NAME` switch), the
 * commands that start this project's own programs, and a way to run the kit
 * in-process and read its results.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CheckResult } from "../../tools/conformance/check.ts";
import type { KitOptions } from "../../tools/conformance/cli.ts";
import { runKit } from "../../tools/conformance/kit.ts";
import { REPO_ROOT } from "./processes.ts";

/** The Python server target. */
export const SERVER_PY: string = join(
  REPO_ROOT,
  "tests/fixtures/conformance/server.py",
);
/** The Python client target. */
export const CLIENT_PY: string = join(
  REPO_ROOT,
  "tests/fixtures/conformance/client.py",
);

let interpreter: string | undefined;

/**
 * The Python interpreter itself, found on first use: a version manager's
 * `python3` may be a shell script that costs far more to start than Python.
 */
export function python(): string {
  if (interpreter !== undefined) return interpreter;
  const output = new Deno.Command("python3", {
    args: ["-c", "import sys; print(sys.executable)"],
    stderr: "inherit",
  }).outputSync();
  if (!output.success) throw new Error("python3 is needed for these tests");
  interpreter = new TextDecoder().decode(output.stdout).trim();
  return interpreter;
}

/**
 * The Python server's command, with `flaw` if given; a receiver gets 3 s
 * to answer (its `--reply-timeout`), so that the kit need not wait long, and
 * its receipts held back on purpose still come in time on a loaded machine.
 */
export function pythonServer(flaw?: string): string[] {
  return [
    python(),
    "-S", // no site packages: starts faster
    SERVER_PY,
    ...(flaw ? [`--flaw=${flaw}`] : []),
    "--reply-timeout=3",
    "{port}",
    "{users}",
  ];
}

/** The Python client's command, with `flaw` if given. */
export function pythonClient(flaw?: string): string[] {
  return [
    python(),
    "-S",
    CLIENT_PY,
    ...(flaw ? [`--flaw=${flaw}`] : []),
    "{host}",
    "{port}",
  ];
}

/**
 * This project's server, a receiver given 3 s to answer: the kit holds some
 * receipts back on purpose, and on a loaded machine its holding can outlast
 * a shorter timeout.
 */
export const OWN_SERVER: string[] = [
  Deno.execPath(),
  "run",
  "--allow-net",
  "--allow-read",
  join(REPO_ROOT, "server.ts"),
  "--reply-timeout=3",
  "--quiet",
  "{port}",
  "{users}",
];

/** This project's client. */
export const OWN_CLIENT: string[] = [
  Deno.execPath(),
  "run",
  "--allow-net",
  join(REPO_ROOT, "client.ts"),
  "{host}",
  "{port}",
];

/** The names of the flaws a Python target offers, from its `FLAWS`. */
export function flawsOf(script: string): string[] {
  const output = new Deno.Command(python(), {
    args: [
      "-S",
      "-c",
      "import runpy, sys; print(' '.join(runpy.run_path(sys.argv[1])['FLAWS']))",
      script,
    ],
  }).outputSync();
  return new TextDecoder().decode(output.stdout).trim().split(" ");
}

/** Kit options for a run of `mode` against `command`. */
export function kitOptions(
  mode: KitOptions["mode"],
  command: string[],
  more: Partial<KitOptions> = {},
): KitOptions {
  return {
    mode,
    command,
    strict: false,
    list: false,
    jobs: 4,
    startupMs: 20_000,
    timeoutWaitMs: 8_000,
    ...more,
  };
}

/** Runs the kit in-process; resolves to its results. */
export async function runConformance(
  options: KitOptions,
): Promise<CheckResult[]> {
  return (await runKit(options)).results;
}

/** The ids of the checks that did not pass, sorted. */
export function notPassed(results: readonly CheckResult[]): string[] {
  return results.filter((result) => result.outcome !== "pass")
    .map((result) => result.id).sort();
}

/** A failed check's story, for an assertion message. */
export function describeResults(results: readonly CheckResult[]): string {
  return results.filter((result) => result.outcome !== "pass").map((result) =>
    [
      `${result.outcome} ${result.id}: ${result.reason ?? ""}`,
      ...result.dialog.slice(-8).map((line) => `    ${line}`),
      ...result.output.slice(-5).map((line) => `    | ${line}`),
    ].join("\n")
  ).join("\n");
}

/**
 * Runs `tasks` with at most `limit` at once; resolves to their results in
 * order.
 */
export async function inBatches<T>(
  tasks: (() => Promise<T>)[],
  limit: number,
): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

/**
 * The rows of a broken-target table whose run did not fail exactly the
 * checks the row names, each described with its run's results.
 */
export function wrongRows(
  table: Readonly<Record<string, readonly string[]>>,
  outcomes: readonly (readonly CheckResult[])[],
): string[] {
  return Object.entries(table).flatMap(([flaw, expected], index) => {
    const failed = notPassed(outcomes[index]);
    return failed.join(" ") === [...expected].sort().join(" ") ? [] : [
      `--flaw=${flaw}: expected to fail ${expected.join(", ")}; failed ${
        failed.join(", ") || "nothing"
      }\n${describeResults(outcomes[index])}`,
    ];
  });
}

/**
 * Asserts that every check of `checks` is failed by some row of `table`,
 * and that the table names no check that does not exist.
 */
export function assertEveryCheckCaught(
  table: Readonly<Record<string, readonly string[]>>,
  checks: readonly { id: string }[],
): void {
  const caught = new Set(Object.values(table).flat());
  const never = checks.map((check) => check.id).filter((id) => !caught.has(id));
  assert.deepEqual(never, [], "checks no broken target fails");
  const unknown = [...caught].filter((id) =>
    !checks.some((check) => check.id === id)
  );
  assert.deepEqual(unknown, [], "the table names checks that do not exist");
}
