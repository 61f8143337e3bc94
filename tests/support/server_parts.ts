/**
 * The server's parts put together without sockets, for their unit tests: a
 * log that keeps its events, an inbox owner that records what it is told,
 * and a rig of sessions on fake links sharing a registry and a delivery.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TimeoutQueue } from "../../lib/async/timeout_queue.ts";
import type { LineResult } from "../../lib/net/line_reader.ts";
import { Authenticator } from "../../lib/server/auth.ts";
import { type Delivery, LocalDelivery } from "../../lib/server/delivery.ts";
import type { InboxOwner } from "../../lib/server/inbox.ts";
import { EventLog, type LogEvent } from "../../lib/server/log.ts";
import type { ServerTraceEvent } from "../../lib/server/options.ts";
import { LocalRegistry, type Registry } from "../../lib/server/registry.ts";
import { Session, type SessionServices } from "../../lib/server/session.ts";
import {
  type FakeChatLink,
  FakeCommandLink,
  type FakeCommandLinkOptions,
} from "./fake_links.ts";
import { pollUntil } from "./faults.ts";

/** How long a test waits for something that should happen at once. */
export const PROMPTLY_MS = 2_000;

/** The users of the rig, with their plain passwords. */
export const USERS: ReadonlyMap<string, string> = new Map([
  ["jacky", "12345"],
  ["bob", "bob-pw"],
  ["michael", "michael-pw"],
  ["alice", "alice-pw"],
]);

/** An event log that keeps every event in `events`. */
export function recordingLog(): { log: EventLog; events: LogEvent[] } {
  const events: LogEvent[] = [];
  return { log: new EventLog((event) => events.push(event)), events };
}

/** An inbox owner that records what its inbox told it. */
export class FakeOwner implements InboxOwner {
  /** The causes of each `drop`. */
  readonly drops: string[] = [];
  /** The causes of each `chatLinkEnded`. */
  readonly chatEnds: string[] = [];

  /** Records the drop. */
  drop(cause: string): void {
    this.drops.push(cause);
  }

  /** Records the end of the chat link. */
  chatLinkEnded(cause: string): void {
    this.chatEnds.push(cause);
  }
}

/** `promise`'s value, or a failure naming `what` if it takes over `ms`. */
export async function within<T>(
  promise: Promise<T>,
  what: string,
  ms: number = PROMPTLY_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: not settled within ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options for {@linkcode SessionRig}. */
export interface RigOptions {
  /** How long a receiver has to answer on Lb. Default 10 s. */
  replyTimeoutMs?: number;
  /** How long a client has to take a reply. Default 10 s. */
  writeTimeoutMs?: number;
  /** How long a connection has to log in. Default 30 s. */
  loginTimeoutMs?: number;
  /** The online list. Default a {@linkcode LocalRegistry}. */
  registry?: Registry;
  /** How chat travels. Default a {@linkcode LocalDelivery}. */
  delivery?: Delivery;
  /** Told of every line crossing a link. */
  trace?: (event: ServerTraceEvent) => void;
}

/** One client of the rig: its fake La and the session behind it. */
export class RigClient {
  /** The client's command link. */
  readonly link: FakeCommandLink;
  /** The server's session for it. */
  readonly session: Session;
  readonly #end: (cause: string) => void;
  #read = 0;
  #ended = false;

  /** Wraps `session`, which `end` ends as La's reader would. */
  constructor(
    link: FakeCommandLink,
    session: Session,
    end: (cause: string) => void,
  ) {
    this.link = link;
    this.session = session;
    this.#end = end;
  }

  /** The client's Lb, once `/port` built it. */
  get lb(): FakeChatLink {
    const lb = this.link.lb;
    assert.ok(lb !== undefined, "no Lb was built");
    return lb;
  }

  /** Sends each line on La, without waiting for replies. */
  send(...lines: LineResult[]): void {
    for (const line of lines) this.session.receive(line);
  }

  /** The next reply not read yet, once it has been written. */
  async reply(what = "a reply"): Promise<string> {
    await pollUntil(
      () => this.link.replies.length > this.#read,
      () =>
        `${this.session.label}: waiting for ${what} after ${
          JSON.stringify(this.link.replies)
        }`,
      PROMPTLY_MS,
    );
    return this.link.replies[this.#read++];
  }

  /** Sends `line` and checks that the reply is `expected`. */
  async request(line: string, expected: string): Promise<void> {
    this.send(line);
    assert.equal(await this.reply(`the reply to ${line}`), expected);
  }

  /** La's reader ends: the client closed it, or the server did. */
  hangUp(cause = "disconnected"): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#end(cause);
  }
}

/**
 * Sessions on fake links, with the services a server gives them. Dispose
 * of it to end every session and stop every timer.
 */
export class SessionRig implements AsyncDisposable {
  /** Every event logged. */
  readonly events: LogEvent[];
  /** The online list. */
  readonly registry: Registry;
  /** How long a receiver has to answer on Lb. */
  readonly replies: TimeoutQueue;
  /** How long a client has to take a reply. */
  readonly writes: TimeoutQueue;
  /** How long a connection has to log in. */
  readonly logins: TimeoutQueue;
  /** Sessions that have ended, in the order they did. */
  readonly ended: Session[] = [];
  /** What the sessions share. */
  readonly services: SessionServices;
  readonly #clients: RigClient[] = [];
  readonly #ends: Promise<void>[] = [];
  readonly #shutdown = new AbortController();

  /** A rig with `options`' parts, the defaults for the rest. */
  constructor(options: RigOptions = {}) {
    const { log, events } = recordingLog();
    this.events = events;
    this.registry = options.registry ?? new LocalRegistry();
    this.replies = new TimeoutQueue(options.replyTimeoutMs ?? 10_000);
    this.writes = new TimeoutQueue(options.writeTimeoutMs ?? 10_000);
    this.logins = new TimeoutQueue(options.loginTimeoutMs ?? 30_000);
    this.services = {
      log,
      trace: options.trace,
      auth: new Authenticator(USERS, {
        throttle: false,
        log,
        signal: this.#shutdown.signal,
      }),
      registry: this.registry,
      delivery: options.delivery ??
        new LocalDelivery(this.registry, { replies: this.replies, log }),
      writes: this.writes,
      logins: this.logins,
      ended: (session) => this.ended.push(session),
    };
  }

  /** A client that has just connected. */
  connect(options: FakeCommandLinkOptions = {}): RigClient {
    const link = new FakeCommandLink(options);
    const session = new Session(link, this.services);
    const client = new RigClient(
      link,
      session,
      (cause) => this.#ends.push(session.end(cause)),
    );
    // La closed by the server: its reader ends, and with it the session.
    link.onClose = () => client.hangUp();
    this.#clients.push(client);
    return client;
  }

  /** A client logged in as `name` with its Lb built. */
  async join(name: string): Promise<RigClient> {
    const client = this.connect();
    await client.request(
      `/login ${name} ${USERS.get(name)}`,
      "101 Authentication successful",
    );
    await client.request("/port 30232", "201 Build connection successful");
    return client;
  }

  /** The events logged as `event`. */
  logged(event: string): LogEvent[] {
    return this.events.filter((logged) => logged.event === event);
  }

  /** Ends every session and waits for each to let go; stops the timers. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const client of this.#clients) client.session.drop("test over");
    await within(Promise.all(this.#ends), "every session ending");
    for (const queue of [this.replies, this.writes, this.logins]) {
      queue.close();
    }
    this.#shutdown.abort();
  }
}
