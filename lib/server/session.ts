/**
 * One client's session on the server: its states, and the commands it may
 * send in each.
 *
 * | State       | Entered                                | Accepts                               |
 * | ----------- | -------------------------------------- | ------------------------------------- |
 * | `connected` | the command link opens                 | `/login`; anything else is `401`      |
 * | `online`    | `101`: the name is on the online list  | `/port`, `/list`, `/to`, `/toall`, `/exit` |
 * | `leaving`   | `/exit`: off the list, no chat taken   | nothing more; `310` is on its way     |
 * | `gone`      | the session ends, however it ends      | nothing: queued `/to`s get `304`      |
 *
 * Lines are answered one at a time, in the order they came. The session
 * knows its client only through a {@linkcode CommandLink} (La for a terminal
 * client) and receives chat through an {@linkcode Inbox}, so that a kind of
 * client other than a TCP one needs no change here.
 *
 * @module
 */

import type { TimeoutEntry, TimeoutQueue } from "../async/timeout_queue.ts";
import { describeError } from "../errors.ts";
import type { LineResult } from "../net/line_reader.ts";
import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_FAILED,
  BUILD_SUCCESSFUL,
  BYE,
  type Command,
  DELIVERY_FAILED,
  DELIVERY_SUCCESSFUL,
  formatList,
  parseCommand,
  UNRECOGNIZED,
} from "../protocol.ts";
import type { Authenticator } from "./auth.ts";
import type { Delivery } from "./delivery.ts";
import { Inbox, type InboxOwner } from "./inbox.ts";
import type { CommandLink, OpenChatResult } from "./links.ts";
import type { EventLog } from "./log.ts";
import type { ServerTraceEvent } from "./options.ts";
import type { Registry } from "./registry.ts";

/** Where a session stands; see the module's table. */
export type SessionState = "connected" | "online" | "leaving" | "gone";

/** What every session of a server shares. */
export interface SessionServices {
  /** The event log. */
  readonly log: EventLog;
  /** Told of every line crossing a link. */
  readonly trace: ((event: ServerTraceEvent) => void) | undefined;
  /** Checks logins. */
  readonly auth: Authenticator;
  /** The online list. */
  readonly registry: Registry;
  /** Delivers `/to` and `/toall`. */
  readonly delivery: Delivery;
  /** How long a reply may wait for a client to take it. */
  readonly writes: TimeoutQueue;
  /** How long a new connection has to log in. */
  readonly logins: TimeoutQueue;
  /** Told when a session has ended and let go of everything. */
  ended(session: Session): void;
}

// Lines a client may send ahead of the server's replies before the server
// stops reading its command link for a while.
const MAX_PIPELINED_LINES = 16;

// The answer to a command whose handling failed inside the server.
const FAILURE_REPLIES: Record<Command["kind"], string | undefined> = {
  "login": AUTH_FAILED,
  "bad-login": AUTH_FAILED,
  "port": BUILD_FAILED,
  "list": UNRECOGNIZED,
  "to": DELIVERY_FAILED,
  "toall": DELIVERY_FAILED,
  "exit": undefined,
  "unrecognized": UNRECOGNIZED,
};

/** One client, from its first line to the end of its links. */
export class Session implements InboxOwner {
  /** The client's command link. */
  readonly link: CommandLink;
  readonly #services: SessionServices;
  #state: SessionState = "connected";
  #inbox: Inbox | undefined;
  #loginTimeout: TimeoutEntry | undefined;
  #portRequested = false;
  /** The chat link being opened, stopped if the session ends. */
  #opening: AbortController | undefined;
  /** Lines received and not yet answered, and the last one's handling. */
  #queued = 0;
  #handled: Promise<void> = Promise.resolve();

  /** Starts the session of a client that has just connected. */
  constructor(link: CommandLink, services: SessionServices) {
    this.link = link;
    this.#services = services;
    this.#loginTimeout = services.logins.add(() =>
      this.drop(`no login within ${services.logins.delayMs} ms`)
    );
    services.log.emit({
      level: "info",
      event: "connected",
      message: `${link.peer} connected`,
      peer: link.peer,
    });
  }

  /** Where the session stands. */
  get state(): SessionState {
    return this.#state;
  }

  /** The receiving side, once logged in. */
  get inbox(): Inbox | undefined {
    return this.#inbox;
  }

  /** The user's name once logged in, the client's address before. */
  get label(): string {
    return this.#inbox?.name ?? this.link.peer;
  }

  /**
   * Queues a line from the command link behind the ones still being
   * handled; past a few, returns a promise that holds back reading.
   */
  receive(line: LineResult): Promise<void> | undefined {
    this.#trace("a", "CLIENT", line);
    this.#queued++;
    this.#handled = this.#queued === 1
      ? this.#handleLine(line)
      : this.#handled.then(() => this.#handleLine(line));
    return this.#queued >= MAX_PIPELINED_LINES ? this.#handled : undefined;
  }

  /**
   * The command link has ended: the user goes off the list at once; lines
   * already received are still answered, in case the client only closed its
   * sending side. Never rejects.
   */
  async end(cause: string): Promise<void> {
    this.#logout(cause);
    await this.#handled;
    this.link.close();
    this.#loginTimeout?.cancel();
    this.#services.ended(this);
  }

  /** Logs the user out and closes both links. */
  drop(cause: string): void {
    this.#logout(cause);
    this.link.close();
  }

  /** The chat link has ended: a session still going ends with it. */
  chatLinkEnded(cause: string): void {
    if (this.#state !== "gone") this.drop(cause);
  }

  /** Traces a line crossing the chat link. */
  trace(from: "CLIENT" | "SERVER", line: LineResult): void {
    this.#trace("b", from, line);
  }

  /** Answers one line; never rejects. */
  async #handleLine(line: LineResult): Promise<void> {
    const command: Command = typeof line === "string"
      ? parseCommand(line)
      : { kind: "unrecognized" };
    let reply: string | undefined;
    try {
      reply = await this.#answer(command);
    } catch (error) {
      // A fault of ours still gets the command its one, failed, answer.
      this.#services.log.internalError(error);
      reply = FAILURE_REPLIES[command.kind];
    }
    if (reply !== undefined) await this.#reply(reply);
    this.#queued--;
  }

  /** Carries out a command; the reply, or `undefined` after `/exit`. */
  async #answer(command: Command): Promise<string | undefined> {
    const inbox = this.#inbox;
    if (inbox === undefined) {
      if (command.kind === "login") {
        return await this.#login(command.user, command.password);
      }
      if (command.kind === "bad-login") {
        await this.#services.auth.refused(this.link, "malformed /login");
        return AUTH_FAILED;
      }
      return UNRECOGNIZED;
    }
    switch (command.kind) {
      case "port":
        return await this.#openChat(inbox, command.port);
      case "list":
        return formatList(this.#services.registry.namesFor(inbox.name));
      case "to":
        // A user who has left sends nothing more.
        if (this.#state !== "online") return DELIVERY_FAILED;
        return await this.#services.delivery.sendTo(
            inbox.name,
            command.target,
            command.content,
          )
          ? DELIVERY_SUCCESSFUL
          : DELIVERY_FAILED;
      case "toall":
        if (this.#state !== "online") return DELIVERY_FAILED;
        return await this.#services.delivery.sendToAll(
            inbox.name,
            command.content,
          )
          ? DELIVERY_SUCCESSFUL
          : DELIVERY_FAILED;
      case "exit":
        await this.#exit(inbox);
        return undefined;
      default:
        return UNRECOGNIZED;
    }
  }

  /** Writes a reply; a client that does not take it in time is dropped. */
  async #reply(line: string): Promise<void> {
    this.#trace("a", "SERVER", line);
    const stalled = this.#services.writes.add(() =>
      this.drop("stopped reading its replies")
    );
    try {
      await this.link.send(line);
    } catch {
      // The link's reader sees the broken link and ends the session.
    } finally {
      stalled.cancel();
    }
  }

  /** `connected` → `online`, if the password is right and the name free. */
  async #login(user: string, password: string): Promise<string> {
    const { auth, registry, log } = this.#services;
    if (!await auth.verify(user, password)) {
      await auth.refused(this.link, "wrong user name or password");
      return AUTH_FAILED;
    }
    if (this.#state !== "connected") return AUTH_FAILED;
    const inbox = new Inbox(user, this);
    let claimed: boolean;
    try {
      claimed = await registry.claim(inbox);
    } catch (error) {
      await auth.refused(
        this.link,
        `cannot check that ${user} is not online: ${describeError(error)}`,
      );
      return AUTH_FAILED;
    }
    if (!claimed) {
      await auth.refused(this.link, `${user} is already online`);
      return AUTH_FAILED;
    }
    if (this.#state !== "connected") {
      // Gone while the name was being claimed.
      await registry.release(inbox);
      return AUTH_FAILED;
    }
    this.#state = "online";
    this.#inbox = inbox;
    this.#loginTimeout?.cancel();
    this.#loginTimeout = undefined;
    const chat = this.link.attachChat?.(inbox);
    if (chat !== undefined) inbox.attach(chat);
    auth.succeeded(this.link);
    log.emit({
      level: "info",
      event: "login",
      message: `${this.link.peer} logged in as ${user}`,
      user,
      peer: this.link.peer,
    });
    return AUTH_SUCCESSFUL;
  }

  /** `/port`: opens the chat link, once per session. */
  async #openChat(inbox: Inbox, port: number): Promise<string> {
    if (this.link.openChat === undefined || this.#portRequested) {
      return UNRECOGNIZED;
    }
    this.#portRequested = true;
    if (this.#state !== "online") return BUILD_FAILED;
    const attempt = new AbortController();
    this.#opening = attempt;
    let opened: OpenChatResult;
    try {
      opened = await this.link.openChat(port, inbox, attempt.signal);
    } finally {
      this.#opening = undefined;
    }
    const { log } = this.#services;
    if ("error" in opened) {
      log.emit({
        level: "error",
        event: "lb-failed",
        message:
          `${inbox.name}: Lb to ${opened.target} failed: ${opened.error}`,
        user: inbox.name,
        peer: this.link.peer,
        cause: opened.error,
      });
      return BUILD_FAILED;
    }
    if (this.#state !== "online") {
      opened.link.close();
      return BUILD_FAILED;
    }
    inbox.attach(opened.link);
    log.emit({
      level: "info",
      event: "lb",
      message: `${inbox.name}: Lb connected to ${opened.target}`,
      user: inbox.name,
      peer: this.link.peer,
    });
    return BUILD_SUCCESSFUL;
  }

  /** `online` → `leaving` → `gone`: `/exit`. */
  async #exit(inbox: Inbox): Promise<void> {
    // No chat is taken from now on: senders already queued for the lock get
    // 304. Off the list everywhere, so that the name is free once the goodbye
    // is out. Taking the lock lets the exchange in flight finish. Then the
    // goodbye, then both links close.
    if (this.#state === "online") {
      this.#state = "leaving";
      inbox.stopTaking();
    }
    await this.#services.registry.release(inbox);
    (await inbox.lock.acquire()).release();
    await this.#reply(BYE);
    this.drop("exit");
  }

  /** Any state → `gone`: off the list, chat link closed; idempotent. */
  #logout(cause: string): void {
    if (this.#state === "gone") return;
    const wasKnown = this.#state !== "connected";
    this.#state = "gone";
    this.#opening?.abort();
    const inbox = this.#inbox;
    if (inbox !== undefined) {
      this.#services.registry.release(inbox);
      inbox.close();
    }
    this.#services.log.emit({
      level: cause === "exit" || !wasKnown ? "info" : "error",
      event: "logout",
      message: `${this.label} logged out: ${cause}`,
      user: inbox?.name,
      peer: this.link.peer,
      cause,
    });
  }

  #trace(link: "a" | "b", from: "CLIENT" | "SERVER", line: LineResult): void {
    const trace = this.#services.trace;
    if (trace === undefined) return;
    trace({
      user: this.label,
      link,
      from,
      line: typeof line === "string" ? line : "\uFFFD",
    });
  }
}
