/**
 * Runs checks: each bounded in time, several side by side, and turns what
 * each did into a result. A check that hangs, crashes or throws is a failure
 * with a reason; nothing a target does can stop the run.
 *
 * @module
 */

import { describeError } from "../../lib/errors.ts";
import {
  type Check,
  CHECK_TIMEOUT_MS,
  CheckFailure,
  type CheckResult,
  CheckSkipped,
  FreshTargetNeeded,
  type Limits,
} from "./check.ts";
import { Dialog } from "./dialog.ts";
import { formatMs, SILENCE, within } from "./wait.ts";

/** A check's time, which starts once its target is ready. */
export class CheckClock {
  /** Aborts when the check's time is up or the run is interrupted. */
  readonly signal: AbortSignal;
  /** The check's dialog, whose 00:00 is when the clock starts. */
  readonly dialog: Dialog;
  readonly #timeoutMs: number;
  readonly #expiry = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** A clock of `timeoutMs`, cut short when `interrupt` aborts. */
  constructor(timeoutMs: number, interrupt: AbortSignal, dialog: Dialog) {
    this.#timeoutMs = timeoutMs;
    this.dialog = dialog;
    this.signal = AbortSignal.any([interrupt, this.#expiry.signal]);
  }

  /** Starts the check's time (once its target is ready); idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.dialog.start();
    this.#timer = setTimeout(() => this.#expiry.abort(), this.#timeoutMs);
  }

  /** Whether the check's time ran out. */
  get expired(): boolean {
    return this.#expiry.signal.aborted;
  }

  /** Stops the timer. */
  dispose(): void {
    clearTimeout(this.#timer);
  }
}

/** A check made ready to run: its context, and how to end it. */
export interface Prepared<C> {
  /** What the check's `run` is given. */
  context: C;
  /** What the target printed during the check, for a failure. */
  output(): string[];
  /** Ends the check: closes its links, stops or keeps its target. */
  finish(passed: boolean): Promise<void>;
  /**
   * The check starts its clock itself, once its target is up (a client
   * started by the check); by default it starts when the check does.
   */
  startsOwnClock?: boolean;
}

/** Options for {@linkcode runChecks}: checks of type `K`, run with `C`. */
export interface RunOptions<C, K extends Check<C>> {
  /** Checks side by side. */
  jobs: number;
  /** Aborts the run: Ctrl-C. */
  signal: AbortSignal;
  /** How long a program has to start, and the kit waits for its timeouts. */
  limits: Limits;
  /** When the whole run must end, in milliseconds from its start. */
  runLimitMs: number;
  /**
   * How long past its time a check that does not end is waited for before
   * it is given up (default 5 s).
   */
  graceMs?: number;
  /**
   * Gets a check's target ready (a new one if `fresh`); throws to fail (or
   * skip) the check.
   */
  prepare(check: K, clock: CheckClock, fresh: boolean): Promise<Prepared<C>>;
  /**
   * Whether a check that finds its target unfit ({@linkcode FreshTargetNeeded})
   * may run again on a new one; otherwise it fails.
   */
  renews: boolean;
  /** Told of each result as it comes. */
  onResult?(result: CheckResult): void;
}

/** Runs `checks`; resolves to their results, in the order given. */
export async function runChecks<C, K extends Check<C>>(
  checks: readonly K[],
  options: RunOptions<C, K>,
): Promise<CheckResult[]> {
  const results = new Array<CheckResult>(checks.length);
  const runEnds = performance.now() + options.runLimitMs;
  const queue = checks.map((check, index) => ({ check, index }));
  const lane = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { check, index } = next;
      if (performance.now() >= runEnds || options.signal.aborted) {
        results[index] = notRun(check, options.signal.aborted);
      } else {
        let result = await runOne(check, options, false);
        if (result === RENEW) result = await runOne(check, options, true);
        results[index] = result === RENEW ? notRun(check, true) : result;
      }
      options.onResult?.(results[index]);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, options.jobs) }, lane),
  );
  return results;
}

function notRun<C>(check: Check<C>, interrupted: boolean): CheckResult {
  return {
    ...describe(check),
    outcome: interrupted ? "skip" : "fail",
    reason: interrupted
      ? "not run: the run was interrupted"
      : "not run: the whole run reached its time limit",
    dialog: [],
    output: [],
    ms: 0,
  };
}

function describe<C>(check: Check<C>) {
  return {
    id: check.id,
    group: check.group,
    expects: check.expects,
    source: check.source,
  };
}

/** What {@linkcode runOne} gives when the check must run on a new target. */
const RENEW: unique symbol = Symbol("renew");

async function runOne<C, K extends Check<C>>(
  check: K,
  options: RunOptions<C, K>,
  fresh: boolean,
): Promise<CheckResult | typeof RENEW> {
  const timeoutMs = typeof check.timeoutMs === "function"
    ? check.timeoutMs(options.limits)
    : check.timeoutMs ?? CHECK_TIMEOUT_MS;
  const dialog = new Dialog();
  const clock = new CheckClock(timeoutMs, options.signal, dialog);
  const began = performance.now();
  let prepared: Prepared<C> | undefined;
  let outcome: Outcome;
  let output: string[] = [];
  try {
    prepared = await options.prepare(check, clock, fresh);
    if (!prepared.startsOwnClock) clock.start();
    const running = check.run(prepared.context);
    running.catch(() => {});
    // The check's own waits end when its clock does; this is the backstop
    // for a wait that does not.
    const limit = options.limits.startupMs + timeoutMs +
      (options.graceMs ?? 5_000);
    const note = await within(running, limit, options.signal);
    if (note !== SILENCE) {
      outcome = { outcome: "pass", reason: note || undefined };
    } else if (options.signal.aborted) {
      outcome = { outcome: "skip", reason: "interrupted" };
    } else {
      outcome = {
        outcome: "fail",
        reason: `the check did not end within ${formatMs(limit)}`,
      };
    }
  } catch (error) {
    if (error instanceof FreshTargetNeeded && options.renews && !fresh) {
      clock.dispose();
      // The target itself did nothing wrong: another check may use it.
      await prepared?.finish(true).catch(() => {});
      return RENEW;
    }
    outcome = failureOf(error, clock, timeoutMs);
    const carried = (error as { output?: unknown } | undefined)?.output;
    if (Array.isArray(carried)) output = carried;
  } finally {
    clock.dispose();
  }
  if (prepared) {
    if (outcome.outcome === "fail") output = prepared.output();
    try {
      await prepared.finish(outcome.outcome === "pass");
    } catch (error) {
      if (outcome.outcome === "pass") {
        outcome = {
          outcome: "fail",
          reason: `cleaning up: ${describeError(error)}`,
        };
      }
    }
  }
  return {
    ...describe(check),
    ...outcome,
    dialog: outcome.outcome === "fail" ? dialog.render() : [],
    output: outcome.outcome === "fail" ? output : [],
    ms: Math.round(performance.now() - began),
  };
}

type Outcome = Pick<CheckResult, "outcome" | "reason" | "expected" | "got">;

function failureOf(
  error: unknown,
  clock: CheckClock,
  timeoutMs: number,
): Outcome {
  if (error instanceof CheckSkipped) {
    return { outcome: "skip", reason: error.message };
  }
  if (clock.signal.aborted && !clock.expired) {
    return { outcome: "skip", reason: "interrupted" };
  }
  if (error instanceof CheckFailure) {
    return {
      outcome: "fail",
      reason: error.message,
      expected: error.expected,
      got: error.got,
    };
  }
  return {
    outcome: "fail",
    reason: clock.expired
      ? `the check's ${formatMs(timeoutMs)} ran out: ${describeError(error)}`
      : describeError(error),
  };
}
