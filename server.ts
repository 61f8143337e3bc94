/**
 * The instant-messaging server.
 *
 * ```sh
 * deno run --allow-net --allow-read server.ts <port> <users file>
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { EXIT_FAILURE, EXIT_USAGE, parsePort, UsageError } from "./lib/cli.ts";
import { describeError } from "./lib/errors.ts";
import { startServer } from "./lib/server.ts";
import { loadUsers, UsersFileError } from "./lib/users_file.ts";

const USAGE = "usage: server.ts <port> <users file>";

async function main(args: string[]): Promise<number> {
  let port: number;
  let usersPath: string;
  try {
    const { positionals } = parseArgs({ args, allowPositionals: true });
    if (positionals.length !== 2) {
      throw new UsageError("expected a port and a users file");
    }
    port = parsePort(positionals[0], { allowZero: true });
    usersPath = positionals[1];
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }

  let users: Map<string, string>;
  try {
    users = await loadUsers(usersPath);
  } catch (error) {
    if (!(error instanceof UsersFileError)) throw error;
    console.error(`error: ${error.message}`);
    return EXIT_FAILURE;
  }

  let server;
  try {
    server = startServer(users, { port, log: logEvent });
  } catch (error) {
    console.error(
      `error: cannot listen on port ${port}: ${describeListenError(error)}`,
    );
    return EXIT_FAILURE;
  }
  console.log(
    `listening on ${server.hostname}:${server.port} with ${users.size} users`,
  );

  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    Deno.addSignalListener("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}

function logEvent(line: string): void {
  console.error(`${new Date().toISOString()} ${line}`);
}

function describeListenError(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) return "it is already in use";
  if (error instanceof Deno.errors.PermissionDenied) {
    return "permission denied (ports below 1024 need privileges)";
  }
  return describeError(error);
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    Deno.exit(EXIT_FAILURE);
  }
}
