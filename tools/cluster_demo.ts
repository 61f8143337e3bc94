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

import type { ServerAddress } from "../lib/client/mod.ts";
import { ClusterNode } from "../lib/cluster/mod.ts";
import { describeError, EXIT_FAILURE } from "../lib/errors.ts";
import { type ChatServer, loadUsers, startServer } from "../lib/server/mod.ts";
import { parseSpeed, playAppendix, SAMPLE_USERS } from "./demo.ts";
import { startNatsServer } from "./nats_server.ts";

const USERS_ON_NODES = ["jacky", "bob", "michael"];

async function main(args: string[]): Promise<number> {
  const speed = parseSpeed(args, "usage: cluster_demo.ts [--speed=N]");
  const users = await loadUsers(SAMPLE_USERS);
  await using nats = await startNatsServer();
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
