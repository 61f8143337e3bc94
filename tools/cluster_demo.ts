/**
 * The Appendix's conversation on a cluster: starts `nats-server` (from the
 * PATH, with JetStream, on a free loopback port and a temporary store) and
 * three nodes, then replays the Appendix with jacky, bob and michael each on
 * a different node. The trace is the same as the single server's.
 *
 * ```sh
 * deno task demo-cluster [--speed=20]
 * ```
 *
 * @module
 */

import { delay } from "../lib/async/delay.ts";
import type { ServerAddress } from "../lib/client/mod.ts";
import { ClusterNode } from "../lib/cluster/mod.ts";
import { describeError, EXIT_FAILURE } from "../lib/errors.ts";
import { type ChatServer, loadUsers, startServer } from "../lib/server/mod.ts";
import { parseSpeed, playAppendix, SAMPLE_USERS } from "./demo.ts";

const USERS_ON_NODES = ["jacky", "bob", "michael"];
const READY_MS = 10_000;

/** A `nats-server` child process with JetStream on. */
interface NatsChild extends AsyncDisposable {
  url: string;
}

/** Starts `nats-server` from the PATH; resolves once it accepts clients. */
async function startNats(): Promise<NatsChild> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const store = await Deno.makeTempDir({ prefix: "chat-demo-nats-" });
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("nats-server", {
      args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store],
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
  return { url: `nats://127.0.0.1:${port}`, [Symbol.asyncDispose]: dispose };
}

async function main(args: string[]): Promise<number> {
  const speed = parseSpeed(args, "usage: cluster_demo.ts [--speed=N]");
  const users = await loadUsers(SAMPLE_USERS);
  await using nats = await startNats();
  const servers: ChatServer[] = [];
  try {
    const addresses = new Map<string, ServerAddress>();
    for (const [i, user] of USERS_ON_NODES.entries()) {
      const node = await ClusterNode.start({
        servers: [nats.url],
        node: `n${i + 1}`,
        users,
      });
      const server = startServer(users, {
        hostname: "127.0.0.1",
        backend: node.backend,
      });
      servers.push(server);
      addresses.set(user, { hostname: "127.0.0.1", port: server.port });
      console.log(
        `Node ${node.name} listening on 127.0.0.1:${server.port}, for ${user}.`,
      );
    }
    console.log(`NATS at ${nats.url}.`);
    return await playAppendix((user) => addresses.get(user)!, { speed });
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    Deno.exit(EXIT_FAILURE);
  }
}
