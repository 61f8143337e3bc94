/**
 * The instant-messaging server.
 *
 * ```sh
 * deno run --allow-net --allow-read server.ts [options] <port> <users file>
 * ```
 *
 * With `--web=PORT` it also serves the web client on that port, over HTTPS
 * with `--tls-cert` and `--tls-key`; with `--cluster` it is one node of a
 * cluster on NATS.
 *
 * @module
 */

import type { ClusterNode } from "./lib/cluster/mod.ts";
import {
  describeError,
  describeListenError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
} from "./lib/errors.ts";
import {
  parseServerArgs,
  SERVER_USAGE,
  type ServerArgs,
} from "./lib/server/command_line.ts";
import {
  formatLogEvent,
  loadUsers,
  startServer,
  UsersFileError,
} from "./lib/server/mod.ts";
import { formatTrace, hidePassword } from "./lib/trace.ts";
import { WebListenError } from "./lib/web/mod.ts";

async function main(args: string[]): Promise<number> {
  let parsed: ServerArgs;
  try {
    parsed = parseServerArgs(args);
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${SERVER_USAGE}`);
    return EXIT_USAGE;
  }
  const { port, usersPath, logFormat, trace, web, tls, cluster, ...options } =
    parsed;

  let users: Map<string, string>;
  try {
    users = await loadUsers(usersPath);
  } catch (error) {
    if (!(error instanceof UsersFileError)) throw error;
    console.error(`error: ${error.message}`);
    return EXIT_FAILURE;
  }

  let pem: { cert: string; key: string } | undefined;
  if (tls !== undefined) {
    try {
      pem = {
        cert: await readPem(tls.cert, "--tls-cert"),
        key: await readPem(tls.key, "--tls-key"),
      };
    } catch (error) {
      console.error(`error: ${describeError(error)}`);
      return EXIT_FAILURE;
    }
  }

  let node: ClusterNode | undefined;
  if (cluster !== undefined) {
    // Loaded only here: a single server runs no third-party code.
    const { ClusterNode } = await import("./lib/cluster/mod.ts");
    try {
      node = await ClusterNode.start({ ...cluster, users });
    } catch (error) {
      console.error(`error: ${describeError(error)}`);
      return EXIT_FAILURE;
    }
  }
  const nodeName = node?.name;

  const startedAt = performance.now();
  let server;
  try {
    server = startServer(users, {
      ...options,
      port,
      backend: node?.backend,
      web: web === undefined ? undefined : { port: web, ...pem },
      log: (event) =>
        console.error(formatLogEvent({ ...event, node: nodeName }, logFormat)),
      trace: trace
        ? (event) =>
          console.error(
            `${event.user} ${
              formatTrace(
                (performance.now() - startedAt) / 1000,
                hidePassword(event),
              )
            }`,
          )
        : undefined,
    });
  } catch (error) {
    await node?.close();
    console.error(
      error instanceof WebListenError
        ? `error: ${error.message}`
        : `error: cannot listen on port ${port}: ${describeListenError(error)}`,
    );
    return EXIT_FAILURE;
  }
  console.log(
    `listening on ${server.hostname}:${server.port} with ${users.size} users`,
  );
  if (server.web !== undefined) console.log(`web client on ${server.web.url}`);

  let stopping = false;
  await new Promise<void>((resolve) => {
    const stop = () => {
      // A second signal while closing means "now".
      if (stopping) Deno.exit(EXIT_FAILURE);
      stopping = true;
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  await server.close();
  return EXIT_OK;
}

/** The text of a PEM file named on the command line. */
async function readPem(path: string, option: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(
      `cannot read ${option} file ${path}: ${describeError(error)}`,
    );
  }
  if (!text.includes("-----BEGIN ")) {
    throw new Error(`${option} file ${path} holds no PEM data`);
  }
  return text;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    Deno.exit(EXIT_FAILURE);
  }
}
