/**
 * Many timeouts of one duration behind a single timer.
 *
 * All entries share the same delay, so their deadlines come in the order
 * they were added: a linked list keeps them sorted for free, adding and
 * cancelling are O(1), and one `setTimeout` armed for the oldest entry
 * serves them all. This replaces a timer per message on hot paths.
 *
 * The timer may outlive the last entry by up to one delay; call
 * {@linkcode TimeoutQueue.close} to stop it at once.
 *
 * @module
 */

/** A pending timeout; cancel it once what it guards has finished. */
export interface TimeoutEntry {
  /** Stops the timeout from firing; harmless after it fired. */
  cancel(): void;
}

class Node implements TimeoutEntry {
  readonly deadline: number;
  onTimeout: (() => void) | undefined;
  previous: Node | undefined;
  next: Node | undefined;
  readonly #unlink: (node: Node) => void;

  constructor(
    deadline: number,
    onTimeout: () => void,
    unlink: (node: Node) => void,
  ) {
    this.deadline = deadline;
    this.onTimeout = onTimeout;
    this.#unlink = unlink;
  }

  cancel(): void {
    if (this.onTimeout === undefined) return;
    this.onTimeout = undefined;
    this.#unlink(this);
  }
}

/**
 * A queue of timeouts that all last `delayMs`.
 *
 * @example
 * ```ts
 * import { TimeoutQueue } from "./timeout_queue.ts";
 *
 * const replies = new TimeoutQueue(10_000);
 * const entry = replies.add(() => console.log("no reply in time"));
 * entry.cancel(); // the reply came
 * replies.close();
 * ```
 */
export class TimeoutQueue {
  /** How long each entry waits before it fires, in milliseconds. */
  readonly delayMs: number;
  #head: Node | undefined;
  #tail: Node | undefined;
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #unlinkNode = (node: Node) => this.#unlink(node);

  /** Creates an empty queue; no timer runs until an entry is added. */
  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }

  /** Pending entries. */
  get size(): number {
    return this.#size;
  }

  /** Calls `onTimeout` after {@linkcode TimeoutQueue.delayMs} unless cancelled. */
  add(onTimeout: () => void): TimeoutEntry {
    const node = new Node(
      performance.now() + this.delayMs,
      onTimeout,
      this.#unlinkNode,
    );
    if (this.#tail === undefined) {
      this.#head = node;
    } else {
      this.#tail.next = node;
      node.previous = this.#tail;
    }
    this.#tail = node;
    this.#size++;
    if (this.#timer === undefined) this.#arm(node.deadline);
    return node;
  }

  /** Cancels every entry without firing it, and stops the timer. */
  close(): void {
    for (let node = this.#head; node !== undefined; node = node.next) {
      node.onTimeout = undefined;
    }
    this.#head = this.#tail = undefined;
    this.#size = 0;
    this.#disarm();
  }

  #unlink(node: Node): void {
    if (node.previous === undefined) this.#head = node.next;
    else node.previous.next = node.next;
    if (node.next === undefined) this.#tail = node.previous;
    else node.next.previous = node.previous;
    node.previous = node.next = undefined;
    this.#size--;
    // The timer is left as it is: when it fires it re-arms for the oldest
    // entry then, or stops if there is none. Stopping and restarting it on
    // every add and cancel would cost more than the timeouts themselves.
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(
      () => this.#fire(),
      Math.max(0, deadline - performance.now()),
    );
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    const now = performance.now();
    while (this.#head !== undefined && this.#head.deadline <= now) {
      const node = this.#head;
      const onTimeout = node.onTimeout;
      node.cancel();
      onTimeout?.();
    }
    if (this.#head !== undefined && this.#timer === undefined) {
      this.#arm(this.#head.deadline);
    }
  }
}
