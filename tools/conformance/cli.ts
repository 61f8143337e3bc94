/**
 * The kit's command line: what to check, how, and where the reports go.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseCount, parseSeconds } from "../../lib/cli.ts";
import { UsageError } from "../../lib/errors.ts";
import { parsePortNumber } from "../../lib/protocol.ts";

/** The usage text. */
export const USAGE = `usage:
  deno task conformance server [options] -- <command> <args…>
      starts the server itself: {port} and {users} in the command are
      replaced by a free port and a users file the kit writes
  deno task conformance server --target HOST:PORT --users FILE [options]
      checks a server already running, started with FILE
  deno task conformance client [options] -- <command> <args…>
      starts the client itself: {host} and {port} are replaced by the
      address of a server the kit plays

options:
  --json FILE             also write the report as JSON
  --markdown FILE         also write the report as Markdown
  --strict                Decisions and Robustness count for the exit code too
  --only ID,ID…           run only these checks (see --list)
  --list                  list the checks and exit
  --jobs N                checks run side by side (default 4)
  --startup SECONDS       time the program has to start (default 10)
  --timeout-wait SECONDS  time to wait for a server's own timeout (default 15)

exit code: 0 when every Handout check passed (with --strict: every check),
1 when one failed, 2 for a wrong command line, 130 when interrupted.`;

/** What the kit was asked to do. */
export interface KitOptions {
  /** A server or a client. */
  mode: "server" | "client";
  /** The command that starts the program under test, placeholders in it. */
  command?: string[];
  /** A server already running. */
  target?: { hostname: string; port: number };
  /** Its users file. */
  usersFile?: string;
  /** Where to write the JSON report. */
  json?: string;
  /** Where to write the Markdown report. */
  markdown?: string;
  /** Whether every group counts for the exit code. */
  strict: boolean;
  /** Only these checks, if given. */
  only?: string[];
  /** List the checks and exit. */
  list: boolean;
  /** Checks side by side. */
  jobs: number;
  /** Time the program has to start, in milliseconds. */
  startupMs: number;
  /** Time to wait for a server's own timeout, in milliseconds. */
  timeoutWaitMs: number;
}

/**
 * Reads the kit's arguments.
 *
 * @throws {UsageError} for a wrong command line.
 */
export function parseKitArgs(args: readonly string[]): KitOptions {
  const split = args.indexOf("--");
  const own = split < 0 ? [...args] : args.slice(0, split);
  const command = split < 0 ? undefined : args.slice(split + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      allowPositionals: true,
      options: {
        target: { type: "string" },
        users: { type: "string" },
        json: { type: "string" },
        markdown: { type: "string" },
        strict: { type: "boolean", default: false },
        only: { type: "string" },
        list: { type: "boolean", default: false },
        jobs: { type: "string", default: "4" },
        startup: { type: "string", default: "10" },
        "timeout-wait": { type: "string", default: "15" },
      },
    });
  } catch (error) {
    throw new UsageError(
      error instanceof Error ? error.message : String(error),
    );
  }
  const { values, positionals } = parsed;
  const mode = positionals[0];
  if (mode !== "server" && mode !== "client") {
    throw new UsageError("say what to check: server or client");
  }
  if (positionals.length > 1) {
    throw new UsageError(
      `unexpected ${positionals[1]}: put the command after --`,
    );
  }
  const options: KitOptions = {
    mode,
    command: command?.length ? command : undefined,
    json: values.json,
    markdown: values.markdown,
    strict: values.strict,
    only: values.only?.split(",").map((id) => id.trim()).filter(Boolean),
    list: values.list,
    jobs: parseCount(values.jobs, { name: "--jobs" }),
    startupMs: parseSeconds(values.startup, { name: "--startup" }) * 1000,
    timeoutWaitMs: parseSeconds(values["timeout-wait"], {
      name: "--timeout-wait",
    }) * 1000,
  };
  if (options.list) return options;
  if (values.target !== undefined) {
    if (mode !== "server") throw new UsageError("--target is for a server");
    if (options.command) {
      throw new UsageError("give either --target or a command, not both");
    }
    if (values.users === undefined) {
      throw new UsageError("--target needs --users FILE, the server's users");
    }
    options.target = parseTarget(values.target);
    options.usersFile = values.users;
    return options;
  }
  if (values.users !== undefined) {
    throw new UsageError("--users goes with --target");
  }
  if (!options.command) {
    throw new UsageError("give the command that starts the program, after --");
  }
  const needed = mode === "server" ? ["{port}", "{users}"] : ["{port}"];
  for (const placeholder of needed) {
    if (!options.command.some((arg) => arg.includes(placeholder))) {
      throw new UsageError(`the command must contain ${placeholder}`);
    }
  }
  return options;
}

/** `HOST:PORT`, with `[…]` around an IPv6 address. */
function parseTarget(text: string): { hostname: string; port: number } {
  const colon = text.lastIndexOf(":");
  const hostname = text.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  const port = parsePortNumber(text.slice(colon + 1));
  if (colon <= 0 || hostname === "" || port === undefined || port === 0) {
    throw new UsageError(`--target must be HOST:PORT, not "${text}"`);
  }
  return { hostname, port };
}
