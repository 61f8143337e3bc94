/**
 * What a check is, and what running one gives: the three groups, the check's
 * declaration, its result, and the errors a check throws to fail or to skip.
 *
 * @module
 */

/** The three groups of checks, each shown separately. */
export type Group = "handout" | "decisions" | "robustness";

/** The groups in the order they are run and shown. */
export const GROUPS: readonly Group[] = ["handout", "decisions", "robustness"];

/** How each group is titled in a report. */
export const GROUP_TITLES: Readonly<Record<Group, string>> = {
  handout: "Handout: what the assignment's text requires",
  decisions: "Decisions: where the handout is silent (advice)",
  robustness: "Robustness: the handout's abnormal cases (advice)",
};

/**
 * Default time a check has once its target is ready, in milliseconds. Each
 * answer it waits for has 5 s at most; a check waits for a few, and logs in
 * a few users first.
 */
export const CHECK_TIMEOUT_MS = 10_000;

/** What the time a check has may depend on, in milliseconds. */
export interface Limits {
  /** Time a program has to start. */
  startupMs: number;
  /** Time to wait for a server's own timeout. */
  timeoutWaitMs: number;
}

/** One check, run against a target through a context of type `C`. */
export interface Check<C> {
  /** A short, stable name: `login-102`. */
  id: string;
  /** The group it belongs to. */
  group: Group;
  /** What is expected, in the handout's words where it has some. */
  expects: string;
  /** Where the expectation comes from: a part of the handout, a decision. */
  source: string;
  /**
   * Time the check has once the target is ready; {@linkcode CHECK_TIMEOUT_MS}
   * unless the check takes many steps or is about a timeout.
   */
  timeoutMs?: number | ((limits: Limits) => number);
  /**
   * Runs the check; throws {@linkcode CheckFailure} (or any error) to fail,
   * {@linkcode CheckSkipped} to skip. May resolve to a note shown with ✓.
   */
  run(context: C): Promise<string | void>;
}

/** How a check ended. */
export type Outcome = "pass" | "fail" | "skip";

/** The result of one check, as the reports show it. */
export interface CheckResult {
  /** The check's id. */
  id: string;
  /** The check's group. */
  group: Group;
  /** What was expected. */
  expects: string;
  /** Where the expectation comes from. */
  source: string;
  /** Passed, failed or skipped. */
  outcome: Outcome;
  /** Why it failed or was skipped; a note for a pass. */
  reason?: string;
  /** The line that was expected, in the Appendix's notation. */
  expected?: string;
  /** What came instead: a line, the connection's end, or silence. */
  got?: string;
  /** The dialog up to the end of the check, in the Appendix's notation. */
  dialog: string[];
  /** What the program under test printed meanwhile, when it helps. */
  output: string[];
  /** How long the check took, in milliseconds. */
  ms: number;
}

/** What {@linkcode CheckFailure} may carry besides its message. */
export interface FailureDetail {
  /** The line that was expected. */
  expected?: string;
  /** What came instead. */
  got?: string;
}

/** A check failed: the message says what went wrong, in one line. */
export class CheckFailure extends Error {
  /** The line that was expected, if the failure is about one line. */
  readonly expected?: string;
  /** What came instead. */
  readonly got?: string;

  /** Creates the failure; `detail` names the expected line and what came. */
  constructor(message: string, detail: FailureDetail = {}) {
    super(message);
    this.name = "CheckFailure";
    this.expected = detail.expected;
    this.got = detail.got;
  }
}

/** A check cannot run against this target; the message says why. */
export class CheckSkipped extends Error {
  /** Creates the skip with its reason. */
  constructor(reason: string) {
    super(reason);
    this.name = "CheckSkipped";
  }
}

/** Fails the check with `message` unless `condition` holds. */
export function require(
  condition: unknown,
  message: string,
  detail: FailureDetail = {},
): asserts condition {
  if (!condition) throw new CheckFailure(message, detail);
}

/**
 * The target holds something from an earlier check that this check cannot
 * work with (users still online): run the check again on a new target.
 */
export class FreshTargetNeeded extends Error {
  /** Creates the error; `message` says what was found. */
  constructor(message: string) {
    super(message);
    this.name = "FreshTargetNeeded";
  }
}
