/**
 * A `nats-server` child process with JetStream, on a free loopback port and a
 * temporary store, for the cluster demo and the cluster benchmark.
 *
 * @module
 */

import { delay } from "../lib/async/delay.ts";

const READY_MS = 10_000;

/** A running `nats-server`; disposing of it kills it and removes its store. */
export interface NatsChild extends AsyncDisposable {
  /** `nats://127.0.0.1:PORT`. */
  url: string;
  /** Its process id. */
  pid: number;
}

/**
 * Starts `nats-server` from the PATH and resolves once it accepts clients.
 * Rejects with a one-line message saying how to install it if it is missing.
 */
export async function startNatsServer(): Promise<NatsChild> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const store = await Deno.makeTempDir({ prefix: "chat-nats-" });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("nats-server", {
      args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch (error) {
    await Deno.remove(store, { recursive: true });
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "nats-server is not installed: on Debian or Ubuntu, apt-get install nats-server",
      );
    }
    throw error;
  }
  const dispose = async () => {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(store, { recursive: true });
  };
  const deadline = performance.now() + READY_MS;
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      if (performance.now() > deadline) {
        await dispose();
        throw new Error(`nats-server did not start within ${READY_MS} ms`);
      }
      await delay(50);
    }
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    pid: child.pid,
    [Symbol.asyncDispose]: dispose,
  };
}
