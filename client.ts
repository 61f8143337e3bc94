/**
 * The instant-messaging client.
 *
 * ```sh
 * deno run --allow-net client.ts <server ip> <server port>
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EXIT_FAILURE, EXIT_USAGE, parsePort, UsageError } from "./lib/cli.ts";
import { describeError } from "./lib/errors.ts";
import { inputLines, runClient } from "./lib/client.ts";

const USAGE = "usage: client.ts <server ip> <server port>";

async function main(args: string[]): Promise<number> {
  let hostname: string;
  let port: number;
  try {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (positionals.length !== 2) {
      throw new UsageError("expected the server's IP address and port");
    }
    hostname = positionals[0];
    port = parsePort(positionals[1]);
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  return await runClient({ hostname, port }, { input: inputLines(Deno.stdin) });
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    Deno.exit(EXIT_FAILURE);
  }
}
