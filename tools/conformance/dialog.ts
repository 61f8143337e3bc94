/**
 * The dialog of one check: every line that crossed a link, in the Appendix's
 * notation (`jacky 00:21 SERVER(a): 301 jacky bob michael`), with what was
 * typed into a client and what it showed, and notes on what the kit did.
 *
 * @module
 */

import { formatClock, formatTrace, type TraceEvent } from "../../lib/trace.ts";

/** One entry of a dialog. */
export type DialogEntry =
  | { at: number | undefined; who: string; kind: "wire"; event: TraceEvent }
  | {
    at: number | undefined;
    who: string;
    kind: "typed" | "shown" | "note";
    text: string;
  };

/** Longest line shown whole; longer ones are cut, with their length given. */
const SHOWN_CHARS = 160;
/** Most entries shown; earlier ones are summed up in one line. */
const SHOWN_ENTRIES = 60;

/**
 * `text` made safe and short for a report: control characters are written
 * as escapes (a stray `\r` becomes visible) and a long line is cut.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { displayLine } from "./dialog.ts";
 *
 * assert.equal(displayLine("101 Authentication successful\r"),
 *   "101 Authentication successful\\r");
 * ```
 */
export function displayLine(text: string): string {
  // deno-lint-ignore no-control-regex
  const escaped = text.replace(/[\x00-\x1f\x7f]/g, (char) => {
    if (char === "\r") return "\\r";
    if (char === "\t") return "\\t";
    if (char === "\n") return "\\n";
    return `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  if (escaped.length <= SHOWN_CHARS) return escaped;
  const bytes = new TextEncoder().encode(text).length;
  return `${escaped.slice(0, 100)}… (${bytes} bytes in all)`;
}

/** The Appendix's notation for one line on a link, without time or user. */
export function formatWire(event: TraceEvent): string {
  return `${event.from}(${event.link}): ${displayLine(event.line)}`;
}

/** The lines of one check, timed from the moment its target was ready. */
export class Dialog {
  readonly #entries: DialogEntry[] = [];
  #zero: number | undefined;

  /** Starts the clock: the Appendix's 00:00. */
  start(): void {
    this.#zero ??= performance.now();
  }

  /** Seconds since the start, or `undefined` before it. */
  #now(): number | undefined {
    return this.#zero === undefined
      ? undefined
      : (performance.now() - this.#zero) / 1000;
  }

  /** Records a line that crossed a link. */
  wire(who: string, event: TraceEvent): void {
    this.#entries.push({ at: this.#now(), who, kind: "wire", event });
  }

  /** Records a line typed into the client under test. */
  typed(who: string, text: string): void {
    this.#entries.push({ at: this.#now(), who, kind: "typed", text });
  }

  /** Records a line the client under test printed. */
  shown(who: string, text: string): void {
    this.#entries.push({ at: this.#now(), who, kind: "shown", text });
  }

  /** Records what the kit did or saw: a link closed, a process started. */
  note(who: string, text: string): void {
    this.#entries.push({ at: this.#now(), who, kind: "note", text });
  }

  /** How many entries there are. */
  get length(): number {
    return this.#entries.length;
  }

  /**
   * The dialog as text lines, user names aligned:
   * `jacky  00:00 CLIENT(a): /login jacky 12345`. Only the last entries
   * are shown when there are many.
   */
  render(): string[] {
    const width = Math.max(0, ...this.#entries.map((e) => e.who.length));
    const kept = this.#entries.slice(-SHOWN_ENTRIES);
    const lines = kept.map((entry) => {
      const who = entry.who.padEnd(width);
      if (entry.kind === "wire") {
        const event = { ...entry.event, line: displayLine(entry.event.line) };
        return `${who} ${formatTrace(entry.at, event)}`;
      }
      const clock = formatClock(entry.at);
      if (entry.kind === "note") return `${who} ${clock} (${entry.text})`;
      return `${who} ${clock} ${entry.kind}: ${displayLine(entry.text)}`;
    });
    const dropped = this.#entries.length - kept.length;
    if (dropped > 0) lines.unshift(`(${dropped} earlier lines not shown)`);
    return lines;
  }
}
