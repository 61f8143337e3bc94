/**
 * The server's command line: its usage text, and the options it gives as
 * values ready for {@linkcode startServer}, the cluster and the web client.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCount, parsePort, parseSeconds } from "../cli.ts";
import { isNodeName } from "../cluster/naming.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_MAX_LINE_BYTES } from "../net/line_framer.ts";
import type { LogFormat, LogLevel } from "./log.ts";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_LOGIN_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REPLY_TIMEOUT_MS,
} from "./options.ts";

/** The usage text, defaults from the constants. */
export const SERVER_USAGE = `usage: server.ts [options] <port> <users file>
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
  --web=PORT                 also serve the web client on PORT (0: a free port)
  --tls-cert=FILE            with --web: serve it over HTTPS with this PEM certificate
  --tls-key=FILE             with --tls-cert: the certificate's PEM private key
  --cluster=URL[,URL...]     be a node of the cluster these NATS servers
                             (nats://HOST:PORT) serve
  --node-name=NAME           this node's name (default: unique per process)
  --cluster-replicas=N       replicas of the cluster's presence bucket
                             (default 1; 3 on a 3-server NATS cluster)
  --quiet                    log errors only
  --log-format=text|json     log line format (default text)
  --trace                    print every line on every link to stderr`;

/** What the command line asks of a cluster node. */
export interface ClusterArgs {
  /** The NATS servers' URLs. */
  servers: string[];
  /** The node's name, if given. */
  node?: string;
  /** Replicas of the presence bucket, if given. */
  replicas?: number;
}

/** Everything the server's command line says. */
export interface ServerArgs {
  /** The port to listen on. */
  port: number;
  /** The users file. */
  usersPath: string;
  /** `--reply-timeout`, in milliseconds. */
  replyTimeoutMs?: number;
  /** `--connect-timeout`, in milliseconds. */
  connectTimeoutMs?: number;
  /** `--login-timeout`, in milliseconds. */
  loginTimeoutMs?: number;
  /** `--max-line`. */
  maxLineBytes?: number;
  /** `--max-connections`. */
  maxConnections?: number;
  /** `--quiet`: errors only. */
  logLevel: LogLevel;
  /** `--log-format`. */
  logFormat: LogFormat;
  /** `--trace`. */
  trace: boolean;
  /** `--web`: the web client's port. */
  web?: number;
  /** `--tls-cert` and `--tls-key`: the PEM files' paths. */
  tls?: { cert: string; key: string };
  /** `--cluster` and its companions. */
  cluster?: ClusterArgs;
}

/**
 * Reads the server's command line.
 *
 * @throws {UsageError} naming what is wrong.
 */
export function parseServerArgs(args: string[]): ServerArgs {
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
      "web": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
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
  const web = values.web === undefined
    ? undefined
    : parsePort(values.web, { allowZero: true, name: "--web" });
  const cert = values["tls-cert"];
  const key = values["tls-key"];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (cert !== undefined && web === undefined) {
    throw new UsageError("--tls-cert and --tls-key need --web");
  }
  return {
    port: parsePort(positionals[0], { allowZero: true }),
    usersPath: positionals[1],
    replyTimeoutMs: seconds("--reply-timeout", values["reply-timeout"]),
    connectTimeoutMs: seconds("--connect-timeout", values["connect-timeout"]),
    loginTimeoutMs: seconds("--login-timeout", values["login-timeout"]),
    maxLineBytes: count("--max-line", values["max-line"]),
    maxConnections: count("--max-connections", values["max-connections"]),
    logLevel: values.quiet ? "error" : "info",
    logFormat,
    trace: values.trace,
    web,
    tls: cert === undefined || key === undefined ? undefined : { cert, key },
    cluster: parseCluster(values),
  };
}

function parseCluster(
  values: Record<string, string | boolean | undefined>,
): ClusterArgs | undefined {
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
    node: typeof node === "string" ? node : undefined,
    replicas: typeof replicas === "string"
      ? parseCount(replicas, { name: "--cluster-replicas" })
      : undefined,
  };
}
