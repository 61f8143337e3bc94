/**
 * What the load generator's coordinator and its worker processes say to each
 * other: one JSON object per line, requests on the worker's standard input,
 * responses on its standard output. User indices are global (user `i` is
 * `u<i>`); each worker holds a contiguous range of them.
 *
 * @module
 */

/** A sender and the name of its receiver. */
export type Pair = [sender: number, receiver: string];

/** Sets up the worker's users (not connected yet). */
export interface InitRequest {
  /** The operation. */
  op: "init";
  /** The server's address. */
  host: string;
  /** The server's port. */
  port: number;
  /**
   * The ports of a cluster's nodes: user `i` logs in to `ports[i % n]`, so
   * that consecutive users are on different nodes. Overrides `port`.
   */
  ports?: number[];
  /** The first user index this worker holds. */
  first: number;
  /** How many users this worker holds. */
  count: number;
  /** Local addresses the users' La links are bound to, in turn. */
  addresses: string[];
  /** The web port, for browser users. */
  webPort?: number;
  /** Users from this index on are browser users (WebSocket clients). */
  webFrom?: number;
}

/** Logs users in with both links: `/login`, an Lb listener, `/port`. */
export interface LoginRequest {
  /** The operation. */
  op: "login";
  /** First user index (inclusive). */
  from: number;
  /** Last user index (exclusive). */
  to: number;
  /** Users logging in at the same time. */
  concurrency: number;
  /** Time allowed for each user's login. */
  timeoutMs: number;
}

/** Starts closed loops: each sender sends `/to` again on every reply. */
export interface LoopStartRequest {
  /** The operation. */
  op: "loop_start";
  /** Senders held by this worker, with their receivers. */
  pairs: Pair[];
  /** The chat content. */
  content: string;
}

/** Reads the worker's counters. */
export interface CountersRequest {
  /** The operation. */
  op: "counters";
}

/** Stops the closed loops and waits for the replies in flight. */
export interface LoopStopRequest {
  /** The operation. */
  op: "loop_stop";
}

/** Sends `/to` at a fixed rate, whatever the replies, and times each. */
export interface OpenLoopRequest {
  /** The operation. */
  op: "open_loop";
  /** Senders held by this worker, used in turn. */
  pairs: Pair[];
  /** Messages per second from this worker. */
  rate: number;
  /** How long to send, warm-up included. */
  durationMs: number;
  /** Messages sent in the first `warmupMs` are not timed. */
  warmupMs: number;
  /** The chat content. */
  content: string;
}

/** Starts recording receipts of Lb lines ending with `token`. */
export interface ProbeStartRequest {
  /** The operation. */
  op: "probe_start";
  /** The content to watch for. */
  token: string;
}

/** Stops recording receipts and reports them. */
export interface ProbeStopRequest {
  /** The operation. */
  op: "probe_stop";
}

/** One user sends `/toall` and waits for the reply. */
export interface ToAllRequest {
  /** The operation. */
  op: "toall";
  /** The sender, held by this worker. */
  sender: number;
  /** The chat content. */
  content: string;
}

/** Each user `i` in range sends one `/to u<(i + 1) mod total>`. */
export interface ToEachRequest {
  /** The operation. */
  op: "to_each";
  /** First user index (inclusive). */
  from: number;
  /** Last user index (exclusive). */
  to: number;
  /** Users in the whole run (the receivers wrap around). */
  total: number;
  /** The chat content. */
  content: string;
  /** Messages in flight at once. */
  concurrency: number;
}

/** Closes every link; the worker then exits. */
export interface CloseRequest {
  /** The operation. */
  op: "close";
}

/** Any request. */
export type WorkerRequest =
  | InitRequest
  | LoginRequest
  | LoopStartRequest
  | CountersRequest
  | LoopStopRequest
  | OpenLoopRequest
  | ProbeStartRequest
  | ProbeStopRequest
  | ToAllRequest
  | ToEachRequest
  | CloseRequest;

/** The answer to `login`. */
export interface LoginResult {
  /** Users now online with both links. */
  ok: number;
  /** Users that failed. */
  failed: number;
  /** The first few failures, described. */
  errors: string[];
  /** From the request to the last user done. */
  elapsedMs: number;
}

/** The answer to `counters` and `loop_stop`: totals since the worker began. */
export interface Counters {
  /** `303` replies to `/to` sent by closed or open loops. */
  delivered: number;
  /** Other replies to them (or none, when La closed). */
  failed: number;
  /** Chat lines received on Lb (each answered `302`). */
  received: number;
  /** Users whose La or Lb closed without being asked to. */
  dropped: number;
}

/** The answer to `open_loop`. */
export interface OpenLoopResult {
  /** Send-to-reply times of the timed messages, in milliseconds. */
  latenciesMs: number[];
  /** Messages sent, warm-up included. */
  sent: number;
  /** Of the timed messages, those answered `303`. */
  delivered: number;
  /** Of the timed messages, those answered otherwise. */
  failed: number;
  /** From the first send to the last reply. */
  elapsedMs: number;
}

/** The answer to `probe_stop`. */
export interface ProbeResult {
  /** Matching lines received. */
  count: number;
  /** Distinct users that received one. */
  users: number;
  /** Receipt times (wall clock, milliseconds since the epoch). */
  times: number[];
}

/** The answer to `toall`: wall clock times in milliseconds since the epoch. */
export interface ToAllResult {
  /** When `/toall` was written. */
  sentAt: number;
  /** When the reply arrived. */
  repliedAt: number;
  /** The reply. */
  reply: string;
}

/** The answer to `to_each`. */
export interface ToEachResult {
  /** `303` replies. */
  ok: number;
  /** Other replies. */
  failed: number;
  /** From the request to the last reply. */
  elapsedMs: number;
}

/** A worker's response to the request with the same `id`. */
export type WorkerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };
