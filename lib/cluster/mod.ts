/**
 * Cluster nodes: several server processes, on one machine or several, that
 * behave as one server, sharing the online list and delivery through NATS
 * (JetStream for the list, request-reply between nodes). The server loads
 * this module only when it is started with `--cluster`.
 *
 * A node connects first ({@linkcode ClusterNode.start}), then its server
 * starts with the node's backend: `startServer(users, { backend:
 * node.backend })`. `docs/cluster.md` has the design.
 *
 * @module
 */

export {
  ClusterNode,
  type ClusterOptions,
  DEAD_AFTER_MS,
  DEFAULT_NATS_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
} from "./cluster_node.ts";
