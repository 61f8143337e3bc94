/**
 * Every server check, and how a run of them gets each check its server. A
 * server the kit started serves one check at a time; after a check that
 * passed it serves the next one, with users of its own, and after one that
 * failed it is stopped. A check that needs nobody else online and finds
 * someone (a user of an earlier check not yet let go) runs again on a new
 * server, so that no check's result depends on another's.
 *
 * @module
 */

import type { CheckResult } from "./check.ts";
import { runChecks } from "./runner.ts";
import { SERVER_DECISION_CHECKS } from "./server_decisions.ts";
import { SERVER_HANDOUT_CHECKS } from "./server_handout.ts";
import { type ServerCheck, ServerCheckContext } from "./server_peer.ts";
import { SERVER_ROBUSTNESS_CHECKS } from "./server_robustness.ts";
import type { ServerSource } from "./server_target.ts";
import { KitUsers } from "./users.ts";

/** Every check of a server, in the order they are reported. */
export const SERVER_CHECKS: readonly ServerCheck[] = [
  ...SERVER_HANDOUT_CHECKS,
  ...SERVER_DECISION_CHECKS,
  ...SERVER_ROBUSTNESS_CHECKS,
];

/** Options for {@linkcode runServerChecks}. */
export interface ServerRunOptions {
  /** Where the servers come from. */
  servers: ServerSource;
  /** Checks side by side, besides the shared server's. */
  jobs: number;
  /** Aborts the run. */
  signal: AbortSignal;
  /** Time a server has to start. */
  startupMs: number;
  /** Time the kit waits for a server's own timeouts. */
  timeoutWaitMs: number;
  /** When the whole run must end. */
  runLimitMs: number;
  /** Told of each result as it comes. */
  onResult?: (result: CheckResult) => void;
}

/** Runs `checks` against the servers of `options`. */
export function runServerChecks(
  checks: readonly ServerCheck[],
  options: ServerRunOptions,
): Promise<CheckResult[]> {
  const { servers } = options;
  return runChecks(checks, {
    // A server already running is one: its checks go one after another.
    jobs: servers.starts ? options.jobs : 1,
    renews: servers.starts,
    signal: options.signal,
    limits: {
      startupMs: options.startupMs,
      timeoutWaitMs: options.timeoutWaitMs,
    },
    runLimitMs: options.runLimitMs,
    onResult: options.onResult,
    async prepare(check, clock, fresh) {
      const common = {
        dialog: clock.dialog,
        signal: clock.signal,
        servers,
        timeoutWaitMs: options.timeoutWaitMs,
        startupMs: options.startupMs,
      };
      if (check.noServer) {
        const context = new ServerCheckContext({
          ...common,
          address: { hostname: "127.0.0.1", port: 0 },
          users: new KitUsers(),
          reused: false,
        });
        return {
          context,
          output: () => [],
          finish: () => context.close(false),
        };
      }
      const lease = await servers.lease(fresh, clock.signal);
      const context = new ServerCheckContext({
        ...common,
        address: lease.address,
        users: lease.users,
        reused: lease.reused,
      });
      return {
        context,
        output: lease.output,
        async finish(passed) {
          // A server that stays up for the next check is left politely.
          await context.close(!servers.starts);
          await lease.release(passed);
        },
      };
    },
  });
}
