/**
 * The conformance kit: checks any server or client of the COMP3234B
 * instant-messaging protocol, in any language, against the handout, this
 * project's decisions and the handout's abnormal cases, and shows the wire
 * dialog wherever it departs.
 *
 * ```sh
 * deno task conformance server -- python3 server.py {port} {users}
 * deno task conformance server --target 127.0.0.1:5000 --users users.txt
 * deno task conformance client -- python3 client.py {host} {port}
 * ```
 *
 * See `docs/conformance.md`.
 *
 * @module
 */

import {
  describeError,
  EXIT_INTERRUPTED,
  EXIT_USAGE,
} from "../../lib/errors.ts";
import { UsageError } from "../../lib/errors.ts";
import { GROUPS } from "./check.ts";
import { type KitOptions, parseKitArgs, USAGE } from "./cli.ts";
import { checksOf, runKit } from "./kit.ts";
import { stopAll } from "./process.ts";
import {
  exitCodeOf,
  formatJson,
  formatMarkdown,
  formatText,
  type Report,
} from "./report.ts";

export { parseKitArgs } from "./cli.ts";
export type { KitOptions } from "./cli.ts";
export { runKit } from "./kit.ts";
export type { Report } from "./report.ts";

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

function listChecks(options: KitOptions): void {
  for (const group of GROUPS) {
    for (const check of checksOf(options.mode)) {
      if (check.group === group) {
        console.log(
          `${group.padEnd(10)} ${check.id.padEnd(24)} ${check.expects}`,
        );
      }
    }
  }
}

/** Runs the kit with the command line `args`; resolves to the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let options: KitOptions;
  try {
    options = parseKitArgs(args);
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (options.list) {
    listChecks(options);
    return 0;
  }

  // Ctrl-C: every check ends at once and the run cleans up; a second one
  // stops every program under test and leaves at once.
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) {
      stopAll().finally(() => Deno.exit(EXIT_INTERRUPTED));
      return;
    }
    console.error("\ninterrupted: stopping the programs under test…");
    interrupt.abort();
  };
  for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);

  const progress = Deno.stderr.isTerminal()
    ? (done: number, total: number) => {
      const text = `\r\x1b[K${done} of ${total} checks done`;
      Deno.stderr.writeSync(new TextEncoder().encode(text));
    }
    : undefined;

  let report: Report;
  try {
    report = await runKit(options, {
      signal: interrupt.signal,
      onResult: progress,
    });
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  } finally {
    await stopAll();
    for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
    if (progress) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  }

  const colour = Deno.stdout.isTerminal() && !Deno.noColor;
  console.log(formatText(report, { colour }).trimEnd());
  try {
    if (options.json) {
      await Deno.writeTextFile(options.json, formatJson(report));
    }
    if (options.markdown) {
      await Deno.writeTextFile(options.markdown, formatMarkdown(report));
    }
  } catch (error) {
    console.error(`error: cannot write the report: ${describeError(error)}`);
    return 1;
  }
  if (report.interrupted) return EXIT_INTERRUPTED;
  return exitCodeOf(report.results, options.strict);
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    code = 1;
  }
  Deno.exit(code);
}
