/**
 * Cluster nodes started in-process: each a {@linkcode ClusterNode} and the
 * server that uses its backend, on a free loopback port, all following the
 * same NATS.
 *
 * @module
 */

import { ClusterNode } from "../../lib/cluster/mod.ts";
import {
  type ChatServer,
  type LogEvent,
  type ServerOptions,
  startServer,
} from "../../lib/server/mod.ts";
import type { Address } from "./wire_peer.ts";

/** One node of an in-process cluster. */
export interface InProcessNode {
  /** The node's name. */
  name: string;
  /** Its server. */
  server: ChatServer;
  /** Where its server listens. */
  address: Address;
  /** Everything it logged. */
  events: LogEvent[];
}

/** Options for {@linkcode startNodes}. */
export interface StartNodesOptions {
  /** How many nodes (default 3). */
  count?: number;
  /** Options for every node's server. */
  server?: ServerOptions;
  /** Names of the nodes (default `n1`, `n2`, …). */
  names?: string[];
}

/** Nodes that close together. */
export class InProcessCluster implements AsyncDisposable {
  /** The nodes, in the order they started. */
  readonly nodes: InProcessNode[];

  constructor(nodes: InProcessNode[]) {
    this.nodes = nodes;
  }

  /** Closes every node's server (and so its link to NATS). */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.server.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Starts nodes following the NATS servers at `urls`, one after another. */
export async function startNodes(
  urls: string[],
  users: ReadonlyMap<string, string>,
  options: StartNodesOptions = {},
): Promise<InProcessCluster> {
  const nodes: InProcessNode[] = [];
  const cluster = new InProcessCluster(nodes);
  try {
    for (let i = 0; i < (options.count ?? 3); i++) {
      const name = options.names?.[i] ?? `n${i + 1}`;
      const node = await ClusterNode.start({
        servers: urls,
        node: name,
        users,
      });
      const events: LogEvent[] = [];
      const server = startServer(users, {
        hostname: "127.0.0.1",
        port: 0,
        loginThrottle: false,
        ...options.server,
        log: (event) => events.push(event),
        backend: node.backend,
      });
      nodes.push({
        name,
        server,
        address: { hostname: server.hostname, port: server.port },
        events,
      });
    }
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
