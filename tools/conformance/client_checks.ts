/**
 * Every client check, and how a run of them starts the client for each:
 * a client is one session, so every check runs a client of its own, side
 * by side with the others.
 *
 * @module
 */

import type { CheckResult } from "./check.ts";
import {
  CLIENT_DECISION_CHECKS,
  CLIENT_ROBUSTNESS_CHECKS,
} from "./client_more.ts";
import { CLIENT_HANDOUT_CHECKS, type ClientCheck } from "./client_handout.ts";
import { ClientCheckContext } from "./fake_server.ts";
import { runChecks } from "./runner.ts";

export type { ClientCheck } from "./client_handout.ts";

/** Every check of a client, in the order they are reported. */
export const CLIENT_CHECKS: readonly ClientCheck[] = [
  ...CLIENT_HANDOUT_CHECKS,
  ...CLIENT_DECISION_CHECKS,
  ...CLIENT_ROBUSTNESS_CHECKS,
];

/** Options for {@linkcode runClientChecks}. */
export interface ClientRunOptions {
  /** The command that starts the client, with `{host}` and `{port}`. */
  command: readonly string[];
  /** Checks side by side. */
  jobs: number;
  /** Aborts the run. */
  signal: AbortSignal;
  /** Time a client has to start and connect. */
  startupMs: number;
  /** When the whole run must end. */
  runLimitMs: number;
  /** Told of each result as it comes. */
  onResult?: (result: CheckResult) => void;
}

/** Runs `checks`, each against a client of its own. */
export function runClientChecks(
  checks: readonly ClientCheck[],
  options: ClientRunOptions,
): Promise<CheckResult[]> {
  return runChecks(checks, {
    jobs: options.jobs,
    signal: options.signal,
    limits: { startupMs: options.startupMs, timeoutWaitMs: 0 },
    runLimitMs: options.runLimitMs,
    onResult: options.onResult,
    renews: false,
    prepare(_check, clock) {
      const context = new ClientCheckContext({
        command: options.command,
        clock,
        startupMs: options.startupMs,
      });
      return Promise.resolve({
        context,
        output: () => context.output(),
        finish: () => context.close(),
        startsOwnClock: true,
      });
    },
  });
}
