/**
 * The instant-messaging client.
 *
 * ```sh
 * deno run --allow-net client.ts [--trace] <server ip> <server port>
 * ```
 *
 * When standard input is a terminal the client is interactive (line editing,
 * history, hidden password, chat shown as chat); otherwise it reads and
 * prints plain lines. `--trace` prints every line crossing either link on
 * standard error, in the handout Appendix's notation.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parsePort } from "./lib/cli.ts";
import { type ClientIO, inputLines, runClient } from "./lib/client/mod.ts";
import {
  describeError,
  EXIT_FAILURE,
  EXIT_USAGE,
  UsageError,
} from "./lib/errors.ts";
import { systemTerminal, TerminalUI } from "./lib/terminal/mod.ts";
import { type TraceEvent, tracePrinter } from "./lib/trace.ts";

const USAGE = "usage: client.ts [--trace] <server ip> <server port>";

/** The terminal interface, if one is in use, so every exit path closes it. */
let terminal: TerminalUI | undefined;

async function main(args: string[]): Promise<number> {
  let hostname: string;
  let port: number;
  let trace: boolean;
  try {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      options: { trace: { type: "boolean", default: false } },
    });
    if (positionals.length !== 2) {
      throw new UsageError("expected the server's IP address and port");
    }
    hostname = positionals[0];
    port = parsePort(positionals[1]);
    trace = values.trace;
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  let io: ClientIO;
  let print: (line: string) => void;
  if (Deno.stdin.isTerminal()) {
    const ui = new TerminalUI(systemTerminal());
    terminal = ui;
    io = { ui };
    print = (line) => ui.showTrace(line);
  } else {
    io = { input: inputLines(Deno.stdin) };
    print = console.error;
  }
  const onTrace: ((event: TraceEvent) => void) | undefined = trace
    ? tracePrinter(print)
    : undefined;
  return await runClient({ hostname, port }, { ...io, trace: onTrace });
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    terminal?.close(); // Back to a normal terminal before the error line.
    console.error(`error: ${describeError(error)}`);
    code = EXIT_FAILURE;
  } finally {
    terminal?.close();
  }
  Deno.exit(code);
}
