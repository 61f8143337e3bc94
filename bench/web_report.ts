/**
 * The web users' table: each figure for terminal (TCP) users and for
 * browser (WebSocket) users of the same server in the same run, their
 * ratio, and the target a web user is held to (at most 1.5 times a TCP
 * user's memory and CPU per delivery). Rendered as a section of
 * `results.md` and kept under `web` in `results.json`.
 *
 * @module
 */

import {
  type BenchResults,
  describeMachine,
  formatNumber,
  type Machine,
  markdownReport,
  type Value,
} from "./report.ts";

/** The most a web user may cost, as a multiple of a TCP user. */
export const WEB_TARGET = 1.5;

/** One figure for both kinds of user. */
export interface WebRow {
  /** The scenario, e.g. `"/to throughput, 100 pairs, web → web"`. */
  scenario: string;
  /** What is measured, with its unit. */
  figure: string;
  /** TCP users (the reference). */
  tcp: Value;
  /** Web users. */
  web: Value;
  /** Web ÷ TCP, when both are numbers. */
  ratio: number | null;
  /** The most `ratio` may be, for the figures the target covers. */
  target?: number;
  /** The samples behind the values (the values are their medians). */
  samples?: { tcp?: number[]; web?: number[] };
}

/** A row with its ratio computed. */
export function webRow(row: Omit<WebRow, "ratio">): WebRow {
  const { tcp, web } = row;
  const ratio = typeof tcp === "number" && typeof web === "number" &&
      tcp > 0 && Number.isFinite(web / tcp)
    ? web / tcp
    : null;
  return { ...row, ratio };
}

/** What a run of the web scenarios produced. */
export interface WebResults {
  /** `quick` or `full`. */
  mode: string;
  /** The command that reproduces the run. */
  command: string;
  /** When the run started (ISO 8601). */
  date: string;
  /** How long the web scenarios took, in seconds. */
  durationSeconds: number;
  /** The machine. */
  machine: Machine;
  /** The table. */
  rows: WebRow[];
  /** Notes printed under the table. */
  notes: string[];
  /** Every raw measurement. */
  raw: Record<string, unknown>;
}

/** The whole benchmark's results, with the web users' section. */
export interface ResultsWithWeb extends BenchResults {
  /** The web scenarios' results, when run. */
  web?: WebResults;
}

const HEADER = ["Scenario", "Figure", "TCP users", "Web users", "Web ÷ TCP"];

function cell(value: Value): string {
  if (value === null) return "—";
  return typeof value === "string" ? value : formatNumber(value);
}

function verdict(row: WebRow): string {
  if (row.ratio === null) return "—";
  const ratio = `${row.ratio.toFixed(2)}×`;
  if (row.target === undefined) return ratio;
  return `${ratio} (${row.ratio <= row.target ? "within" : "over"} ${
    row.target.toFixed(1)
  }×)`;
}

/** The web users' table in Markdown, padded as `deno fmt` pads it. */
export function webTable(rows: readonly WebRow[]): string {
  const all = [
    HEADER,
    ...rows.map((row) => [
      row.scenario,
      row.figure,
      cell(row.tcp),
      cell(row.web),
      verdict(row),
    ]),
  ].map((line) => line.map((text) => text.replaceAll("|", "\\|")));
  const right = [false, false, true, true, true];
  const widths = HEADER.map((_, column) =>
    Math.max(3, ...all.map((line) => [...line[column]].length))
  );
  const pad = (text: string, column: number): string => {
    const fill = " ".repeat(widths[column] - [...text].length);
    return right[column] ? fill + text : text + fill;
  };
  const line = (texts: string[]): string =>
    `| ${texts.map((text, column) => pad(text, column)).join(" | ")} |`;
  const rule = `| ${
    widths.map((width, column) =>
      right[column] ? "-".repeat(width - 1) + ":" : "-".repeat(width)
    ).join(" | ")
  } |`;
  return [line(all[0]), rule, ...all.slice(1).map(line)].join("\n");
}

/** The web users' section of `results.md`. */
export function webMarkdown(web: WebResults): string {
  return [
    "## Web users",
    "",
    `Command: \`${web.command}\` (${web.mode} set, ` +
    `${Math.round(web.durationSeconds)} s), run ${web.date}.`,
    "",
    `Machine: ${describeMachine(web.machine)}.`,
    "",
    webTable(web.rows),
    "",
    ...web.notes.flatMap((note) => [note, ""]),
  ].join("\n").trimEnd() + "\n";
}

/** The whole `results.md`: the main table, then the web users' section. */
export function resultsMarkdown(results: ResultsWithWeb): string {
  const main = markdownReport(results);
  return results.web === undefined
    ? main
    : `${main}\n${webMarkdown(results.web)}`;
}
