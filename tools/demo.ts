/**
 * Replays the conversation of the handout's Appendix: a server on a free
 * port and three scripted clients (bob and michael already online, then
 * jacky), printing every line on both links of each client in the Appendix's
 * notation.
 *
 * ```sh
 * deno run --allow-net --allow-read tools/demo.ts [--speed=20]
 * ```
 *
 * The demo's clock runs `speed` times faster than the Appendix's, and the
 * times shown are on the Appendix's scale.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { delay } from "../lib/async/delay.ts";
import { runClient, type ServerAddress } from "../lib/client/mod.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../lib/errors.ts";
import { BUILD_SUCCESSFUL } from "../lib/protocol.ts";
import { loadUsers, startServer } from "../lib/server/mod.ts";
import { formatTrace, type TraceEvent } from "../lib/trace.ts";

/** One line a scripted user types, and when (seconds on the Appendix clock). */
interface ScriptedLine {
  at: number;
  line: string;
}

interface Actor {
  name: string;
  password: string;
  script: ScriptedLine[];
}

// Bob and michael leave after the Appendix ends, so the demo ends cleanly.
const ACTORS: Actor[] = [
  {
    name: "bob",
    password: "bob123",
    script: [
      { at: 69, line: "/to jacky Jacky, nice to meet you too!" },
      { at: 89, line: "/toall OK." },
      { at: 120, line: "/exit" },
    ],
  },
  {
    name: "michael",
    password: "mic456",
    script: [
      { at: 49, line: "/to jacky Hi, Jacky!" },
      { at: 99, line: "/toall No problem." },
      { at: 121, line: "/exit" },
    ],
  },
  {
    name: "jacky",
    password: "12345",
    script: [
      { at: 20, line: "/list" },
      { at: 30, line: "/to bob Hello! Nice to meet you!" },
      { at: 40, line: "/to michael Hi, Michael!" },
      { at: 60, line: "/toall How about meeting at 3pm today?" },
      { at: 110, line: "/exit" },
    ],
  },
];

/** The Appendix's clock, running `speed` times faster; stopped at first. */
class DemoClock {
  readonly #speed: number;
  readonly #started = Promise.withResolvers<number>();
  #zero: number | undefined;

  constructor(speed: number) {
    this.#speed = speed;
  }

  start(): void {
    this.#zero = performance.now();
    this.#started.resolve(this.#zero);
  }

  /** Seconds on the Appendix's scale, or `undefined` before the start. */
  now(): number | undefined {
    if (this.#zero === undefined) return undefined;
    return (performance.now() - this.#zero) * this.#speed / 1000;
  }

  /** Resolves once the clock has started and shows `seconds`. */
  async reach(seconds: number): Promise<void> {
    const zero = await this.#started.promise;
    const wait = seconds * 1000 / this.#speed - (performance.now() - zero);
    if (wait > 0) await delay(wait);
  }
}

/** Options for {@linkcode runDemo}. */
export interface DemoOptions {
  /** How many times faster than the Appendix the demo runs. Default 20. */
  speed?: number;
  /** Receives each printed line. Defaults to `console.log`. */
  print?: (line: string) => void;
  /** The users file; defaults to the project's `users.txt`. */
  usersPath?: string;
}

/** The project's sample users file. */
export const SAMPLE_USERS: string =
  new URL("../users.txt", import.meta.url).pathname;

/**
 * Runs the demo and resolves to an exit code: 0 if every client ended with
 * `310 Bye bye`.
 */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const print = options.print ?? console.log;
  const users = await loadUsers(options.usersPath ?? SAMPLE_USERS);
  await using server = startServer(users, { hostname: "127.0.0.1" });
  print(`Server listening on 127.0.0.1:${server.port}.`);
  const address = { hostname: "127.0.0.1", port: server.port };
  return await playAppendix(() => address, options);
}

/**
 * Plays the Appendix with each user's client connected to `serverOf` that
 * user, printing the trace; resolves to 0 if every client said goodbye.
 */
export async function playAppendix(
  serverOf: (user: string) => ServerAddress,
  options: Pick<DemoOptions, "speed" | "print"> = {},
): Promise<number> {
  const speed = options.speed ?? 20;
  const print = options.print ?? console.log;
  print(`The clock runs ${speed} times faster than the Appendix's.`);
  print("");

  const clock = new DemoClock(speed);
  const width = Math.max(...ACTORS.map((actor) => actor.name.length));
  const trace = (name: string) => (event: TraceEvent) => {
    print(`${name.padEnd(width)}  ${formatTrace(clock.now(), event)}`);
  };
  async function* typing(actor: Actor): AsyncGenerator<string> {
    yield actor.name;
    yield actor.password;
    for (const { at, line } of actor.script) {
      await clock.reach(at);
      yield line;
    }
  }

  print("Before 00:00, bob and michael are already online:");
  const runs: Promise<number>[] = [];
  for (const actor of ACTORS.slice(0, 2)) {
    const online = Promise.withResolvers<void>();
    runs.push(runClient(serverOf(actor.name), {
      input: typing(actor),
      output: () => {},
      trace: (event) => {
        trace(actor.name)(event);
        if (event.line === BUILD_SUCCESSFUL) online.resolve();
      },
    }));
    await online.promise;
  }
  print("");
  print("At 00:00, jacky launches his client:");
  clock.start();
  const jacky = ACTORS[2];
  runs.push(runClient(serverOf(jacky.name), {
    input: typing(jacky),
    output: () => {},
    trace: trace(jacky.name),
  }));
  const codes = await Promise.all(runs);
  print("");
  const ok = codes.every((code) => code === EXIT_OK);
  print(ok ? "All three clients said goodbye." : "A client failed.");
  return ok ? EXIT_OK : EXIT_FAILURE;
}

/**
 * Reads `--speed=N` from `args`; prints a usage error and exits 2 if it is
 * not a positive number.
 */
export function parseSpeed(args: string[], usage: string): number {
  const { values } = parseArgs({
    args,
    options: { speed: { type: "string", default: "20" } },
  });
  const speed = Number(values.speed);
  if (!(speed > 0)) {
    console.error(`error: --speed must be a positive number\n${usage}`);
    Deno.exit(EXIT_USAGE);
  }
  return speed;
}

if (import.meta.main) {
  const speed = parseSpeed(Deno.args, "usage: demo.ts [--speed=N]");
  Deno.exit(await runDemo({ speed }));
}
