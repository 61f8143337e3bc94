/**
 * Which nodes are alive: liveness per node, not per user. Every node
 * publishes a heartbeat each interval; a node not heard from for the dead
 * time is taken for dead, and its users are freed. Heartbeats are plain
 * messages, not stored: a thousand users cost a node nothing more than one.
 *
 * A node only judges others while it is itself connected, and only after it
 * has been connected for a whole dead time, so that returning from an outage
 * of its own it hears everyone before it judges anyone.
 *
 * @module
 */

/** How a {@linkcode Liveness} sends and hears heartbeats. */
export interface HeartbeatChannel {
  /** Publishes this node's heartbeat. */
  publish(): void;
}

/** What a {@linkcode Liveness} works with. */
export interface LivenessOptions {
  /** This node's name. */
  node: string;
  /** Where heartbeats go. */
  channel: HeartbeatChannel;
  /**
   * The nodes to judge besides those heard from: those holding users, and
   * those requests are waiting on.
   */
  known: () => Iterable<string>;
  /**
   * Told when a node is taken for dead, and again each interval while it
   * still holds users.
   */
  onDead: (node: string) => void;
  /** Told when a node taken for dead is heard from again. */
  onAlive?: (node: string) => void;
  /** Between heartbeats, in milliseconds. */
  intervalMs: number;
  /** Silence after which a node is dead, in milliseconds. */
  deadAfterMs: number;
  /** The clock, in milliseconds. Defaults to `performance.now`. */
  now?: () => number;
}

/** Tracks which nodes of the cluster are alive. */
export class Liveness {
  readonly #options: LivenessOptions;
  readonly #now: () => number;
  readonly #lastHeard = new Map<string, number>();
  readonly #dead = new Set<string>();
  #connectedSince = Infinity;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Tracks liveness as `options` say; call {@linkcode Liveness.start}. */
  constructor(options: LivenessOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Beats at once, then beats and judges every interval. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#options.channel.publish();
    this.#timer = setInterval(() => this.tick(), this.#options.intervalMs);
  }

  /** Stops beating and judging. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Whether `node` is taken for dead. */
  isDead(node: string): boolean {
    return this.#dead.has(node);
  }

  /** The link to NATS is up (again). */
  connected(): void {
    if (this.#connectedSince === Infinity) this.#connectedSince = this.#now();
  }

  /** The link to NATS is down: no judging until it is back. */
  disconnected(): void {
    this.#connectedSince = Infinity;
  }

  /** A heartbeat came from `node`. */
  heard(node: string): void {
    if (node === this.#options.node) return;
    this.#lastHeard.set(node, this.#now());
    if (this.#dead.delete(node)) this.#options.onAlive?.(node);
  }

  /** One interval: a heartbeat out, then a judgement of the others. */
  tick(): void {
    this.#options.channel.publish();
    const now = this.#now();
    if (now - this.#connectedSince < this.#options.deadAfterMs) return;
    const holding = new Set(this.#options.known());
    for (const node of new Set([...this.#lastHeard.keys(), ...holding])) {
      if (node === this.#options.node) continue;
      const heard = this.#lastHeard.get(node) ?? -Infinity;
      if (now - heard < this.#options.deadAfterMs) continue;
      // Told again while it holds users: keys the last attempt could not
      // delete are tried again.
      if (this.#dead.has(node) && !holding.has(node)) continue;
      this.#dead.add(node);
      this.#options.onDead(node);
    }
  }
}
