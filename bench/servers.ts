/**
 * The servers under test, each run as a separate process: ours
 * (`server.ts`), the Python baseline (`bench/baseline/server.py`) and the
 * floor relay (`bench/floor.ts`); and what the kernel says about a process's
 * CPU time and memory.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Which implementation. */
export type ServerKind = "ours" | "baseline" | "floor";

/** All of them, in the order the benchmark runs them. */
export const SERVER_KINDS: readonly ServerKind[] = [
  "ours",
  "baseline",
  "floor",
];

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("../", import.meta.url));

const OURS = fileURLToPath(new URL("../server.ts", import.meta.url));
const BASELINE = fileURLToPath(
  new URL("./baseline/server.py", import.meta.url),
);
const FLOOR = fileURLToPath(new URL("./floor.ts", import.meta.url));

/** How long a server may take to print its listening line. */
const START_TIMEOUT_MS = 30_000;
/** How long a server may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

/** The Python command for the baseline. */
export const PYTHON = "python3";

let pythonPath: Promise<string> | undefined;

/**
 * The interpreter `python3` runs, resolved once: a version manager's shim
 * (pyenv's is a shell script) would otherwise add its own start-up to every
 * start of the baseline.
 */
export function pythonExecutable(): Promise<string> {
  pythonPath ??= (async () => {
    try {
      const { stdout, success } = await new Deno.Command(PYTHON, {
        args: ["-c", "import sys; print(sys.executable)"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      const path = new TextDecoder().decode(stdout).trim();
      return success && path !== "" ? path : PYTHON;
    } catch {
      return PYTHON;
    }
  })();
  return pythonPath;
}

/** Options for {@linkcode serverCommand}. */
export interface ServerCommandOptions {
  /** Pass `--quiet` (log failures only) to servers that know it. */
  quiet?: boolean;
  /** Extra `deno run` flags for Deno servers (`--cpu-prof`, `--v8-flags=…`). */
  denoFlags?: string[];
  /** The Python interpreter for the baseline; default `python3`. */
  python?: string;
  /** More options for our server, such as `--cluster=…`. */
  args?: string[];
  /** Also serve the web client on a free port (ours only). */
  web?: boolean;
}

/** The program and arguments that start `kind` on `port`. */
export function serverCommand(
  kind: ServerKind,
  usersFile: string,
  port = 0,
  options: ServerCommandOptions = {},
): { command: string; args: string[] } {
  const quiet = options.quiet ? ["--quiet"] : [];
  const deno = options.denoFlags ?? [];
  switch (kind) {
    case "ours":
      return {
        command: Deno.execPath(),
        args: [
          "run",
          "--allow-net",
          "--allow-read",
          ...deno,
          OURS,
          ...quiet,
          ...(options.args ?? []),
          ...(options.web ? ["--web=0"] : []),
          String(port),
          usersFile,
        ],
      };
    case "baseline":
      return {
        command: options.python ?? PYTHON,
        args: [BASELINE, String(port), usersFile, ...quiet],
      };
    case "floor":
      return {
        command: Deno.execPath(),
        args: ["run", "--allow-net", ...deno, FLOOR, String(port), usersFile],
      };
  }
}

/** Options for {@linkcode ServerProcess.start}. */
export interface StartOptions extends ServerCommandOptions {
  /** The port to ask for; default 0 (any free port). */
  port?: number;
}

/** A server under test, running as a child process. */
export class ServerProcess implements AsyncDisposable {
  /** Which implementation. */
  readonly kind: ServerKind;
  /** Its process id (the server itself: no shell in between). */
  readonly pid: number;
  /** The port it listens on. */
  readonly port: number;
  /** The web client's port, when started with `web`. */
  readonly webPort: number | undefined;
  /** From spawning to its listening line, in milliseconds. */
  readonly startupMs: number;
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  #stopped: Promise<Deno.CommandStatus> | undefined;

  private constructor(
    kind: ServerKind,
    child: Deno.ChildProcess,
    port: number,
    startupMs: number,
    drained: Promise<void>,
    webPort?: number,
  ) {
    this.kind = kind;
    this.#child = child;
    this.pid = child.pid;
    this.port = port;
    this.webPort = webPort;
    this.startupMs = startupMs;
    this.#drained = drained;
  }

  /**
   * Spawns `kind` and resolves once it has printed its listening line (and,
   * with `web`, the web client's line).
   * Standard error is discarded. Rejects (and kills the process) if the
   * process exits first or takes longer than 30 s.
   */
  static async start(
    kind: ServerKind,
    usersFile: string,
    options: StartOptions = {},
  ): Promise<ServerProcess> {
    const python = kind === "baseline" ? await pythonExecutable() : undefined;
    const { command, args } = serverCommand(kind, usersFile, options.port, {
      python,
      ...options,
    });
    const started = performance.now();
    const child = new Deno.Command(command, {
      args,
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    const wanted = options.web ? 2 : 1;
    const firstLine = Promise.withResolvers<string>();
    const drained = (async () => {
      let text = "";
      let resolved = false;
      try {
        for await (
          const chunk of child.stdout.pipeThrough(new TextDecoderStream())
        ) {
          if (resolved) continue;
          text += chunk;
          const lines = text.split("\n");
          if (lines.length > wanted) {
            resolved = true;
            firstLine.resolve(lines.slice(0, wanted).join("\n"));
          }
        }
      } catch {
        // The process was killed.
      }
      if (!resolved) {
        firstLine.reject(new Error(`${kind} server exited before listening`));
      }
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const line = await Promise.race([
        firstLine.promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `${kind} server: no listening line in ${START_TIMEOUT_MS} ms`,
                ),
              ),
            START_TIMEOUT_MS,
          );
        }),
      ]);
      const startupMs = performance.now() - started;
      const match = /:(\d+)\b/.exec(line);
      const web = /^web client on https?:\/\/[^/]*:(\d+)\//m.exec(line);
      if (match === null || (options.web && web === null)) {
        throw new Error(`${kind} server said ${JSON.stringify(line)}`);
      }
      return new ServerProcess(
        kind,
        child,
        Number(match[1]),
        startupMs,
        drained,
        web === null ? undefined : Number(web[1]),
      );
    } catch (error) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
      await drained;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** CPU time (user + system, every thread) so far, in seconds. */
  cpuSeconds(): Promise<number> {
    return cpuSeconds(this.pid);
  }

  /** Resident memory right now, in KiB. */
  rssKiB(): Promise<number> {
    return rssKiB(this.pid);
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited within 10 s; resolves once it
   * has exited. The server closes its links first, so TIME_WAIT states stay
   * on its side, on ports the next run does not need.
   */
  stop(): Promise<Deno.CommandStatus> {
    this.#stopped ??= (async () => {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      const timer = setTimeout(() => {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
      }, STOP_TIMEOUT_MS);
      try {
        const status = await this.#child.status;
        await this.#drained;
        return status;
      } finally {
        clearTimeout(timer);
      }
    })();
    return this.#stopped;
  }

  /** Same as {@linkcode ServerProcess.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

let clockTicks: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`), usually 100. */
export async function clockTicksPerSecond(): Promise<number> {
  if (clockTicks !== undefined) return clockTicks;
  try {
    const { stdout, success } = await new Deno.Command("getconf", {
      args: ["CLK_TCK"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const value = Number(new TextDecoder().decode(stdout).trim());
    clockTicks = success && value > 0 ? value : 100;
  } catch {
    clockTicks = 100;
  }
  return clockTicks;
}

/** CPU time (utime + stime from `/proc/<pid>/stat`) of a process, in seconds. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The fields after the command name, which is in parentheses and may
  // itself contain spaces: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / await clockTicksPerSecond();
}

/** Resident memory (`VmRSS` from `/proc/<pid>/status`) of a process, in KiB. */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}
