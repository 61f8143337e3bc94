/**
 * The benchmark's results: rows of figures for ours, the baseline and the
 * floor, the ratios between them, and their rendering as `results.md` and
 * `results.json`.
 *
 * @module
 */

/** Which way is better for a figure. */
export type Better = "higher" | "lower" | "none";

/** A measured value: a number, a text such as `"1,000/1,000"`, or `null`. */
export type Value = number | string | null;

/** One figure of one scenario, for each server. */
export interface ResultRow {
  /** The scenario, e.g. `"/to throughput, 100 pairs"`. */
  scenario: string;
  /** What is measured, with its unit, e.g. `"deliveries/s"`. */
  figure: string;
  /** Which way is better. */
  better: Better;
  /** Our server. */
  ours: Value;
  /** The Python baseline. */
  baseline: Value;
  /** The floor relay (`null` where not meaningful or not run). */
  floor: Value;
  /** How many times better ours is than the baseline (>1: ours is better). */
  ratio: number | null;
  /** Ours as a fraction of the floor's performance (1: as good as the floor). */
  oursOfFloor: number | null;
  /** The samples behind the values (the values are their medians). */
  samples?: { ours?: number[]; baseline?: number[]; floor?: number[] };
}

/** The machine the benchmark ran on. */
export interface Machine {
  /** Logical CPUs. */
  nproc: number;
  /** The CPU model, from `/proc/cpuinfo`. */
  cpu: string;
  /** Total memory in GiB. */
  memoryGiB: number;
  /** The kernel release. */
  kernel: string;
  /** Deno's version. */
  deno: string;
  /** V8's version. */
  v8: string;
  /** Python's version (for the baseline). */
  python: string;
  /** The open-file limit per process. */
  openFiles: number;
}

/** Everything a run produced. */
export interface BenchResults {
  /** `quick` or `full`. */
  mode: string;
  /** The command that reproduces the run. */
  command: string;
  /** When the run started (ISO 8601). */
  date: string;
  /** How long the run took, in seconds. */
  durationSeconds: number;
  /** The machine. */
  machine: Machine;
  /** The table. */
  rows: ResultRow[];
  /** Notes printed under the table. */
  notes: string[];
  /** Every raw measurement, per scenario. */
  raw: Record<string, unknown>;
}

/** A row with its ratios computed from `better` and the values. */
export function makeRow(
  row: Omit<ResultRow, "ratio" | "oursOfFloor">,
): ResultRow {
  return {
    ...row,
    ratio: betterRatio(row.better, row.ours, row.baseline),
    oursOfFloor: betterRatio(row.better, row.ours, row.floor),
  };
}

/** How many times better `a` is than `b`, or `null` if not comparable. */
export function betterRatio(better: Better, a: Value, b: Value): number | null {
  if (typeof a !== "number" || typeof b !== "number") return null;
  if (!Number.isFinite(a) || !Number.isFinite(b) || a <= 0 || b <= 0) {
    return null;
  }
  if (better === "higher") return a / b;
  if (better === "lower") return b / a;
  return null;
}

/** A number for a table: three significant digits or so, with separators. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 || Number.isInteger(value)
    ? 0
    : magnitude >= 10
    ? 1
    : magnitude >= 1
    ? 2
    : 3;
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function formatValue(value: Value): string {
  if (value === null) return "—";
  if (typeof value === "string") return value;
  return formatNumber(value);
}

function formatRatio(ratio: number | null): string {
  if (ratio === null) return "—";
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}×`;
}

function formatFloor(row: ResultRow): string {
  const value = formatValue(row.floor);
  if (row.oursOfFloor === null) return value;
  return `${value} (ours ${Math.round(row.oursOfFloor * 100)}%)`;
}

const HEADER = ["Scenario", "Figure", "Ours", "Baseline", "Ratio", "Floor"];
const RIGHT = [false, false, true, true, true, true];

/** The table in Markdown, columns padded as `deno fmt` pads them. */
export function markdownTable(rows: readonly ResultRow[]): string {
  const cells = rows.map((row) => [
    row.scenario,
    row.figure,
    formatValue(row.ours),
    formatValue(row.baseline),
    formatRatio(row.ratio),
    formatFloor(row),
  ]);
  const escape = (text: string): string => text.replaceAll("|", "\\|");
  const all = [HEADER, ...cells].map((line) => line.map(escape));
  const widths = HEADER.map((_, column) =>
    Math.max(3, ...all.map((line) => [...line[column]].length))
  );
  const pad = (text: string, column: number): string => {
    const fill = " ".repeat(widths[column] - [...text].length);
    return RIGHT[column] ? fill + text : text + fill;
  };
  const line = (texts: string[]): string =>
    `| ${texts.map((text, column) => pad(text, column)).join(" | ")} |`;
  const rule = `| ${
    widths.map((width, column) =>
      RIGHT[column] ? "-".repeat(width - 1) + ":" : "-".repeat(width)
    ).join(" | ")
  } |`;
  return [line(all[0]), rule, ...all.slice(1).map(line)].join("\n");
}

/** A one-line description of the machine. */
export function describeMachine(machine: Machine): string {
  return `${machine.nproc} × ${machine.cpu}, ${machine.memoryGiB} GiB, ` +
    `Linux ${machine.kernel}, Deno ${machine.deno} (V8 ${machine.v8}), ` +
    `Python ${machine.python}, open-file limit ${machine.openFiles}`;
}

/** The whole `results.md`. */
export function markdownReport(results: BenchResults): string {
  const lines = [
    "# Benchmark results",
    "",
    `Command: \`${results.command}\` (${results.mode} set, ` +
    `${Math.round(results.durationSeconds)} s), run ${results.date}.`,
    "",
    `Machine: ${describeMachine(results.machine)}.`,
    "",
    markdownTable(results.rows),
    "",
    ...results.notes.flatMap((note) => [note, ""]),
  ];
  return lines.join("\n").trimEnd() + "\n";
}
