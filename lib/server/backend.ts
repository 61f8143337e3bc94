/**
 * The backend: who is online and how chat reaches them. A single server
 * keeps both in its own memory; a cluster node shares them with the other
 * nodes (`lib/cluster/`). The session never knows which.
 *
 * @module
 */

import type { TimeoutQueue } from "../async/timeout_queue.ts";
import type { Delivery } from "./delivery.ts";
import type { EventLog } from "./log.ts";
import type { Registry } from "./registry.ts";

/** What the server lends a backend to build its registry and delivery. */
export interface BackendContext {
  /** The reply timeout every exchange runs under. */
  replies: TimeoutQueue;
  /** The server's event log. */
  log: EventLog;
}

/** A registry and a delivery that work together, and how to stop them. */
export interface Backend {
  /** The online list. */
  readonly registry: Registry;
  /** How `/to` and `/toall` reach their receivers. */
  readonly delivery: Delivery;
  /** Stops the backend once the server has closed every session. */
  close(): Promise<void>;
}

/** Builds a backend for a server that is starting. */
export type BackendFactory = (context: BackendContext) => Backend;
