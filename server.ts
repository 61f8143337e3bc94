/**
 * The instant-messaging server.
 *
 * ```sh
 * deno run --allow-net --allow-read server.ts [options] <port> <users file>
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCount, parsePort, parseSeconds } from "./lib/cli.ts";
import {
  describeError,
  describeListenError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
} from "./lib/errors.ts";
import { DEFAULT_MAX_LINE_BYTES } from "./lib/net/line_framer.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_LOGIN_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REPLY_TIMEOUT_MS,
  formatLogEvent,
  loadUsers,
  type LogFormat,
  startServer,
  UsersFileError,
} from "./lib/server/mod.ts";
import { formatTrace, hidePassword } from "./lib/trace.ts";
import type { ClusterNode } from "./lib/cluster/mod.ts";
import { isNodeName } from "./lib/cluster/naming.ts";

const USAGE = `usage: server.ts [options] <port> <users file>
options:
  --reply-timeout=SECONDS    time a receiver has to answer on Lb (default ${
  DEFAULT_REPLY_TIMEOUT_MS / 1000
})
  --connect-timeout=SECONDS  time allowed to connect Lb (default ${
  DEFAULT_CONNECT_TIMEOUT_MS / 1000
})
  --login-timeout=SECONDS    time a new connection has to log in (default ${
  DEFAULT_LOGIN_TIMEOUT_MS / 1000
})
  --max-line=BYTES           longest accepted line (default ${DEFAULT_MAX_LINE_BYTES})
  --max-connections=N        most client connections at once (default ${DEFAULT_MAX_CONNECTIONS})
  --quiet                    log errors only
  --log-format=text|json     log line format (default text)
  --trace                    print every line on every link to stderr
  --cluster=URL[,URL...]     be a node of the cluster these NATS servers
                             (nats://HOST:PORT) serve
  --node-name=NAME           this node's name (default: unique per process)
  --cluster-replicas=N       replicas of the cluster's presence bucket
                             (default 1; 3 on a 3-server NATS cluster)`;

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { port, usersPath, logFormat, trace, cluster, ...options } = parsed;

  let users: Map<string, string>;
  try {
    users = await loadUsers(usersPath);
  } catch (error) {
    if (!(error instanceof UsersFileError)) throw error;
    console.error(`error: ${error.message}`);
    return EXIT_FAILURE;
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
      `error: cannot listen on port ${port}: ${describeListenError(error)}`,
    );
    return EXIT_FAILURE;
  }
  console.log(
    `listening on ${server.hostname}:${server.port} with ${users.size} users`,
  );

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

function parseCommandLine(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      "reply-timeout": { type: "string" },
      "connect-timeout": { type: "string" },
      "login-timeout": { type: "string" },
      "max-line": { type: "string" },
      "max-connections": { type: "string" },
      "quiet": { type: "boolean", default: false },
      "log-format": { type: "string", default: "text" },
      "trace": { type: "boolean", default: false },
      "cluster": { type: "string" },
      "node-name": { type: "string" },
      "cluster-replicas": { type: "string" },
    },
  });
  if (positionals.length !== 2) {
    throw new UsageError("expected a port and a users file");
  }
  const logFormat = values["log-format"];
  if (logFormat !== "text" && logFormat !== "json") {
    throw new UsageError(
      `--log-format must be text or json, not "${logFormat}"`,
    );
  }
  const seconds = (name: string, text: string | undefined) =>
    text === undefined ? undefined : parseSeconds(text, { name }) * 1000;
  const count = (name: string, text: string | undefined) =>
    text === undefined ? undefined : parseCount(text, { name });
  return {
    port: parsePort(positionals[0], { allowZero: true }),
    usersPath: positionals[1],
    replyTimeoutMs: seconds("--reply-timeout", values["reply-timeout"]),
    connectTimeoutMs: seconds("--connect-timeout", values["connect-timeout"]),
    loginTimeoutMs: seconds("--login-timeout", values["login-timeout"]),
    maxLineBytes: count("--max-line", values["max-line"]),
    maxConnections: count("--max-connections", values["max-connections"]),
    logLevel: values.quiet ? "error" as const : "info" as const,
    logFormat: logFormat as LogFormat,
    trace: values.trace,
    cluster: parseCluster(values),
  };
}

function parseCluster(
  values: Record<string, string | boolean | undefined>,
): { servers: string[]; node?: string; replicas?: number } | undefined {
  const urls = values["cluster"];
  if (typeof urls !== "string") {
    for (const option of ["node-name", "cluster-replicas"]) {
      if (values[option] !== undefined) {
        throw new UsageError(`--${option} needs --cluster`);
      }
    }
    return undefined;
  }
  const servers = urls.split(",");
  for (const url of servers) {
    if (!/^nats:\/\/[^\s/:,]+:[0-9]{1,5}$/.test(url)) {
      throw new UsageError(
        `--cluster takes nats://HOST:PORT URLs separated by commas, not "${url}"`,
      );
    }
  }
  const node = values["node-name"];
  if (typeof node === "string" && !isNodeName(node)) {
    throw new UsageError(
      `--node-name takes 1 to 64 letters, digits, _ or -, not "${node}"`,
    );
  }
  const replicas = values["cluster-replicas"];
  return {
    servers,
    node: node as string | undefined,
    replicas: typeof replicas === "string"
      ? parseCount(replicas, { name: "--cluster-replicas" })
      : undefined,
  };
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    Deno.exit(EXIT_FAILURE);
  }
}
