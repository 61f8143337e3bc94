/**
 * A run's report: its exit code, and the report as terminal text, JSON and
 * Markdown. Each check is a row with ✓ or ✗ and what was expected; each ✗
 * also shows the line expected, what came, and the dialog up to it.
 *
 * @module
 */

import {
  type CheckResult,
  type Group,
  GROUP_TITLES,
  GROUPS,
  type Outcome,
} from "./check.ts";

/** Exit code when every check that counts passed. */
export const EXIT_PASSED = 0;
/** Exit code when a check that counts failed. */
export const EXIT_CHECK_FAILED = 1;

/** A run of the kit, as reported. */
export interface Report {
  /** What was checked: a server or a client. */
  mode: "server" | "client";
  /** The command run, or the address of the server already running. */
  target: string;
  /** When the run began (ISO 8601). */
  started: string;
  /** How long it took, in seconds. */
  seconds: number;
  /** Whether Decisions and Robustness count for the exit code. */
  strict: boolean;
  /** Whether the run was interrupted. */
  interrupted: boolean;
  /** One result per check, in order. */
  results: CheckResult[];
}

/** Passed, failed and skipped checks of one group. */
export interface GroupSummary {
  /** Checks that passed. */
  passed: number;
  /** Checks that failed. */
  failed: number;
  /** Checks that were skipped. */
  skipped: number;
}

/** The counts of each group. */
export function summarize(
  results: readonly CheckResult[],
): Record<Group, GroupSummary> {
  const summary = {} as Record<Group, GroupSummary>;
  for (const group of GROUPS) {
    const of = results.filter((result) => result.group === group);
    const count = (outcome: Outcome) =>
      of.filter((result) => result.outcome === outcome).length;
    summary[group] = {
      passed: count("pass"),
      failed: count("fail"),
      skipped: count("skip"),
    };
  }
  return summary;
}

/**
 * 0 exactly when every Handout check passed (with `strict`, every check of
 * every group); a skipped check does not count.
 */
export function exitCodeOf(
  results: readonly CheckResult[],
  strict: boolean,
): number {
  const failed = results.some((result) =>
    result.outcome === "fail" && (strict || result.group === "handout")
  );
  return failed ? EXIT_CHECK_FAILED : EXIT_PASSED;
}

const MARKS: Record<Outcome, string> = { pass: "✓", fail: "✗", skip: "–" };
const COLOURS: Record<Outcome, string> = { pass: "32", fail: "31", skip: "33" };

function paint(text: string, sgr: string, colour: boolean): string {
  return colour ? `\x1b[${sgr}m${text}\x1b[0m` : text;
}

function summaryLine(summary: Record<Group, GroupSummary>): string {
  const run = GROUPS.filter((group) => {
    const { passed, failed, skipped } = summary[group];
    return passed + failed + skipped > 0;
  });
  return run.map((group) => {
    const { passed, failed, skipped } = summary[group];
    const name = group[0].toUpperCase() + group.slice(1);
    const skippedText = skipped > 0 ? `, ${skipped} skipped` : "";
    return `${name} ${passed} of ${passed + failed} passed${skippedText}`;
  }).join(" · ");
}

function verdict(report: Report): string {
  const code = exitCodeOf(report.results, report.strict);
  if (report.interrupted) return "INTERRUPTED: the results above are partial";
  if (code === EXIT_PASSED) {
    return report.strict
      ? "PASSED: every check passed (exit code 0)"
      : "PASSED: every Handout check passed (exit code 0)";
  }
  const counted =
    report.results.filter((result) =>
      result.outcome === "fail" && (report.strict || result.group === "handout")
    ).length;
  const what = report.strict ? "check" : "Handout check";
  return `FAILED: ${counted} ${what}${
    counted === 1 ? "" : "s"
  } failed (exit code ${code})`;
}

/** Options for {@linkcode formatText}. */
export interface TextOptions {
  /** Colour the marks (for a terminal). */
  colour?: boolean;
}

/** The report for a terminal. */
export function formatText(report: Report, options: TextOptions = {}): string {
  const colour = options.colour ?? false;
  const out: string[] = [
    `Conformance of the ${report.mode}: ${report.target}`,
  ];
  const width = Math.max(...report.results.map((result) => result.id.length));
  for (const group of GROUPS) {
    const results = report.results.filter((result) => result.group === group);
    if (results.length === 0) continue;
    out.push("", GROUP_TITLES[group]);
    for (const result of results) {
      const mark = paint(
        MARKS[result.outcome],
        COLOURS[result.outcome],
        colour,
      );
      out.push(`  ${mark} ${result.id.padEnd(width)}  ${result.expects}`);
      if (result.outcome === "skip") {
        out.push(`      skipped: ${result.reason}`);
      } else if (result.outcome === "pass" && result.reason) {
        out.push(`      ${result.reason}`);
      } else if (result.outcome === "fail") {
        out.push(...failureLines(result).map((line) => `      ${line}`));
      }
    }
  }
  out.push("", summaryLine(summarize(report.results)));
  out.push(
    paint(
      verdict(report),
      exitCodeOf(report.results, report.strict) === 0 ? "1;32" : "1;31",
      colour,
    ),
  );
  return out.join("\n") + "\n";
}

/** What a failed check shows beneath its row. */
function failureLines(result: CheckResult): string[] {
  const lines: string[] = [];
  if (result.expected !== undefined && result.got !== undefined) {
    lines.push(`expected: ${result.expected}`, `came:     ${result.got}`);
  } else {
    lines.push(`why: ${result.reason}`);
  }
  if (result.dialog.length > 0) {
    lines.push("dialog:", ...result.dialog.map((line) => `  ${line}`));
  }
  if (result.output.length > 0) {
    lines.push(
      "it printed:",
      ...result.output.map((line) => `  | ${line}`),
    );
  }
  return lines;
}

/** The report as JSON, for a grader's records. */
export function formatJson(report: Report): string {
  return JSON.stringify(
    {
      ...report,
      exitCode: exitCodeOf(report.results, report.strict),
      summary: summarize(report.results),
    },
    null,
    2,
  ) + "\n";
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** The report as Markdown: a table per group, then each failure. */
export function formatMarkdown(report: Report): string {
  const out: string[] = [
    `# Conformance report: ${report.mode}`,
    "",
    `- Target: \`${report.target}\``,
    `- Run: ${report.started}, ${report.seconds.toFixed(1)} s${
      report.strict ? ", strict" : ""
    }`,
    `- ${summaryLine(summarize(report.results))}`,
    `- **${verdict(report)}**`,
  ];
  for (const group of GROUPS) {
    const results = report.results.filter((result) => result.group === group);
    if (results.length === 0) continue;
    out.push("", `## ${GROUP_TITLES[group]}`, "");
    out.push(
      "|   | Check | Expected | Source |",
      "| - | ----- | -------- | ------ |",
    );
    for (const result of results) {
      out.push(
        `| ${MARKS[result.outcome]} | \`${result.id}\` | ${
          cell(result.expects)
        }${
          result.outcome === "skip"
            ? ` (skipped: ${cell(result.reason ?? "")})`
            : ""
        } | ${cell(result.source)} |`,
      );
    }
  }
  const failed = report.results.filter((result) => result.outcome === "fail");
  if (failed.length > 0) out.push("", "## Failures");
  for (const result of failed) {
    out.push(
      "",
      `### ✗ \`${result.id}\` (${result.group})`,
      "",
      result.expects,
      "",
      "```",
      ...failureLines(result),
      "```",
    );
  }
  return out.join("\n") + "\n";
}
