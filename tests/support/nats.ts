/**
 * NATS servers for the cluster tests: Debian's `nats-server` with JetStream,
 * on a free loopback port, with a temporary store, stopped and removed with
 * the test. One server, or a cluster of three with routes between them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pollUntil } from "./faults.ts";
import { freePort, TestProcess } from "./processes.ts";

/** How long a NATS server may take to be ready. */
const READY_MS = 15_000;

/** Options for {@linkcode NatsServer.start}. */
export interface NatsOptions {
  /** The client port; a free one by default. */
  port?: number;
  /** This server's name within a NATS cluster. */
  name?: string;
  /** Clustering: this server's route port and its peers' route ports. */
  cluster?: { port: number; routes: number[] };
  /** The address to listen on (default 127.0.0.1). */
  hostname?: string;
  /** A command prefix to run the server through (a network namespace's). */
  exec?: string[];
}

/** One `nats-server` process with JetStream on. */
export class NatsServer implements AsyncDisposable {
  /** The client port. */
  readonly port: number;
  /** `nats://host:port`. */
  readonly url: string;
  readonly #options: NatsOptions;
  #store: string;
  #process: TestProcess | undefined;

  private constructor(options: NatsOptions, store: string) {
    this.#options = options;
    // A free port here is free in a fresh network namespace too.
    this.port = options.port ?? freePort();
    this.url = `nats://${options.hostname ?? "127.0.0.1"}:${this.port}`;
    this.#store = store;
  }

  /** Starts a server and waits until it is ready. */
  static async start(options: NatsOptions = {}): Promise<NatsServer> {
    const server = new NatsServer(
      options,
      await Deno.makeTempDir({ prefix: "nats-" }),
    );
    await server.#spawn(!options.cluster);
    return server;
  }

  /** Everything the server has logged. */
  get log(): string {
    return this.#process?.stderr ?? "";
  }

  /** Kills the server at once (SIGKILL) and waits for it to end. */
  async kill(): Promise<void> {
    const process = this.#process;
    this.#process = undefined;
    if (process === undefined) return;
    process.kill("SIGKILL");
    await process.waitForExit();
    await process.dispose();
  }

  /**
   * Starts the server again on the same port, with its store as it was or,
   * with `keepStore` false, with an empty one.
   */
  async restart(options: { keepStore: boolean }): Promise<void> {
    assert.equal(this.#process, undefined, "restart a killed server only");
    if (!options.keepStore) {
      await Deno.remove(this.#store, { recursive: true });
      this.#store = await Deno.makeTempDir({ prefix: "nats-" });
    }
    await this.#spawn(!this.#options.cluster);
  }

  /** Kills the server and removes its store. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
    await Deno.remove(this.#store, { recursive: true }).catch(() => {});
  }

  /** Waits until the log matches `pattern`. */
  async waitForLog(pattern: RegExp, timeoutMs = READY_MS): Promise<void> {
    await pollUntil(
      () => pattern.test(this.log),
      () => `nats-server never logged ${pattern}:\n${this.log}`,
      timeoutMs,
    );
  }

  async #spawn(waitReady: boolean): Promise<void> {
    const { cluster, name, hostname, exec = [] } = this.#options;
    const args = [
      "-js",
      "-a",
      hostname ?? "127.0.0.1",
      "-p",
      String(this.port),
      "-sd",
      this.#store,
    ];
    if (name !== undefined) args.push("-n", name);
    if (cluster !== undefined) {
      args.push(
        "--cluster_name",
        "chat-test",
        "--cluster",
        `nats://127.0.0.1:${cluster.port}`,
        "--routes",
        cluster.routes.map((port) => `nats://127.0.0.1:${port}`).join(","),
      );
    }
    const [command, ...lead] = [...exec, "nats-server"];
    this.#process = new TestProcess({
      name: `nats-server ${this.port}`,
      command,
      args: [...lead, ...args],
      stdin: false,
    });
    if (waitReady) await this.waitForLog(/Server is ready/);
  }
}

/**
 * Three NATS servers routed into one NATS cluster, ready once JetStream has
 * elected its metadata leader. Dispose each.
 */
export async function startNatsCluster(): Promise<NatsServer[]> {
  const routes = [freePort(), freePort(), freePort()];
  const servers = await Promise.all(routes.map((port, i) =>
    NatsServer.start({
      name: `n${i + 1}`,
      cluster: { port, routes: routes.filter((other) => other !== port) },
    })
  ));
  await Promise.all(
    servers.map((server) => server.waitForLog(/metadata leader/)),
  );
  return servers;
}
