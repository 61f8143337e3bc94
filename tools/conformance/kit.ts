/**
 * One run of the kit, in-process: the checks chosen, their targets set up,
 * run, and torn down, whatever happens, into a {@linkcode Report}.
 *
 * @module
 */

import { UsageError } from "../../lib/errors.ts";
import type { Check } from "./check.ts";
import { CLIENT_CHECKS, runClientChecks } from "./client_checks.ts";
import type { KitOptions } from "./cli.ts";
import type { Report } from "./report.ts";
import { runServerChecks, SERVER_CHECKS } from "./server_checks.ts";
import {
  RunningServer,
  type ServerSource,
  StartedServers,
} from "./server_target.ts";
import { kitUsersFile, usersFromFile } from "./users.ts";

/** The whole run ends within this, in milliseconds. */
export const RUN_LIMIT_MS = 115_000;

/** Options for {@linkcode runKit}. */
export interface RunKitOptions {
  /** Aborts the run (Ctrl-C): checks end at once, targets are stopped. */
  signal?: AbortSignal;
  /** Told of each result as it comes. */
  onResult?: (done: number, total: number) => void;
}

/** The checks of `mode`, or only those named. */
export function selectChecks<K extends Check<unknown>>(
  all: readonly K[],
  only: readonly string[] | undefined,
): K[] {
  if (only === undefined) return [...all];
  const unknown = only.filter((id) => !all.some((check) => check.id === id));
  if (unknown.length > 0) {
    throw new UsageError(
      `no such check: ${unknown.join(", ")} (see --list)`,
    );
  }
  return all.filter((check) => only.includes(check.id));
}

/** Every check of `mode`, as `--list` shows them. */
export function checksOf(mode: KitOptions["mode"]): readonly Check<unknown>[] {
  return (mode === "server" ? SERVER_CHECKS : CLIENT_CHECKS) as readonly Check<
    unknown
  >[];
}

/**
 * Runs the checks `options` ask for and resolves to the report. Every
 * process started is stopped and every file written removed before it
 * resolves.
 *
 * @throws {UsageError} for a check that does not exist or a users file that
 * cannot be read.
 */
export async function runKit(
  options: KitOptions,
  run: RunKitOptions = {},
): Promise<Report> {
  const signal = run.signal ?? new AbortController().signal;
  const started = new Date();
  const began = performance.now();
  const scratch = await Deno.makeTempDir({ prefix: "conformance-" });
  let done = 0;
  const common = {
    jobs: options.jobs,
    signal,
    startupMs: options.startupMs,
    timeoutWaitMs: options.timeoutWaitMs,
    runLimitMs: RUN_LIMIT_MS,
  };
  try {
    if (options.mode === "client") {
      const checks = selectChecks(CLIENT_CHECKS, options.only);
      const results = await runClientChecks(checks, {
        ...common,
        command: options.command!,
        onResult: () => run.onResult?.(++done, checks.length),
      });
      return report(options, started, began, signal, results);
    }
    const checks = selectChecks(SERVER_CHECKS, options.only);
    const servers = await serversFor(options, scratch);
    try {
      const results = await runServerChecks(checks, {
        ...common,
        servers,
        onResult: () => run.onResult?.(++done, checks.length),
      });
      return report(options, started, began, signal, results);
    } finally {
      await servers.close();
    }
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

async function serversFor(
  options: KitOptions,
  scratch: string,
): Promise<ServerSource> {
  if (options.target) {
    let text: string;
    try {
      text = await Deno.readTextFile(options.usersFile!);
    } catch (error) {
      throw new UsageError(
        `cannot read ${options.usersFile}: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    let users;
    try {
      users = usersFromFile(text, options.usersFile!);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : `${error}`);
    }
    return new RunningServer(options.target, users, scratch);
  }
  const servers = new StartedServers(options.command!, {
    scratch,
    startupMs: options.startupMs,
  });
  await servers.prepare(kitUsersFile());
  return servers;
}

function report(
  options: KitOptions,
  started: Date,
  began: number,
  signal: AbortSignal,
  results: Report["results"],
): Report {
  const target = options.target
    ? `${options.target.hostname}:${options.target.port} (already running, users from ${options.usersFile})`
    : options.command!.join(" ");
  return {
    mode: options.mode,
    target,
    started: started.toISOString(),
    seconds: Math.round(performance.now() - began) / 1000,
    strict: options.strict,
    interrupted: signal.aborted,
    results,
  };
}
