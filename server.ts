/**
 * The instant-messaging server.
 *
 * ```sh
 * deno run --allow-net --allow-read server.ts [options] <port> <users file>
 * ```
 *
 * With `--web=PORT` it also serves the web client on that port, over HTTPS
 * with `--tls-cert` and `--tls-key`.
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
import { WebListenError } from "./lib/web/mod.ts";

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
  --web=PORT                 also serve the web client on PORT (0: a free port)
  --tls-cert=FILE            with --web: serve it over HTTPS with this PEM certificate
  --tls-key=FILE             with --tls-cert: the certificate's PEM private key
  --quiet                    log errors only
  --log-format=text|json     log line format (default text)
  --trace                    print every line on every link to stderr`;

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (error) {
    console.error(`error: ${describeError(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { port, usersPath, logFormat, trace, web, tls, ...options } = parsed;

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

  const startedAt = performance.now();
  let server;
  try {
    server = startServer(users, {
      ...options,
      port,
      web: web === undefined ? undefined : { port: web, ...pem },
      log: (event) => console.error(formatLogEvent(event, logFormat)),
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
      "web": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
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
    web,
    tls: cert === undefined || key === undefined ? undefined : { cert, key },
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
  };
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
