/**
 * The wire format of the instant-messaging protocol: commands a client sends
 * on link La, the replies the server sends back, and the chat lines carried on
 * link Lb. This is the only module that spells a protocol line; everything
 * else builds and reads lines through it.
 *
 * Lines are handled here without their terminating `\n`; framing is the job of
 * `line_reader.ts` and `line_connection.ts`.
 *
 * @module
 */

/** `101`: the server accepted the user name and password. */
export const AUTH_SUCCESSFUL = "101 Authentication successful";
/** `102`: the login was refused; the client asks again. */
export const AUTH_FAILED = "102 Authentication failed";
/** `201`: the server connected link Lb to the client. */
export const BUILD_SUCCESSFUL = "201 Build connection successful";
/** `202`: the server could not connect link Lb; the client quits. */
export const BUILD_FAILED = "202 Build connection failed";
/** `302`: a receiver's acknowledgement of a chat line on Lb. */
export const RECEIPT_SUCCESSFUL = "302 Message receipt successful";
/** `303`: every intended receiver acknowledged the message. */
export const DELIVERY_SUCCESSFUL = "303 Message delivery successful";
/** `304`: the message did not reach every intended receiver. */
export const DELIVERY_FAILED = "304 Message delivery failed";
/** `310`: the answer to `/exit`; the server then closes both links. */
export const BYE = "310 Bye bye";
/** `401`: the line is not a command the server accepts in this state. */
export const UNRECOGNIZED = "401 Unrecognized message";

/** The status code that starts a `/list` answer. */
export const LIST_CODE = 301;

/** The `/list` command. */
export const LIST = "/list";
/** The `/exit` command. */
export const EXIT = "/exit";

const LOGIN_PREFIX = "/login ";
const PORT_PREFIX = "/port ";
const TO_PREFIX = "/to ";
const TOALL_PREFIX = "/toall ";
const FROM_PREFIX = "/from ";
const BROADCASTFROM_PREFIX = "/broadcastfrom ";
const PORT_DIGITS = /^[0-9]{1,5}$/;
const HIGHEST_PORT = 65535;

/** A line a client sends on La, as the server understands it. */
export type Command =
  | { kind: "login"; user: string; password: string }
  | { kind: "bad-login" }
  | { kind: "port"; port: number }
  | { kind: "list" }
  | { kind: "to"; target: string; content: string }
  | { kind: "toall"; content: string }
  | { kind: "exit" }
  | { kind: "unrecognized" };

const LIST_COMMAND: Command = { kind: "list" };
const EXIT_COMMAND: Command = { kind: "exit" };
const BAD_LOGIN: Command = { kind: "bad-login" };
const UNRECOGNIZED_COMMAND: Command = { kind: "unrecognized" };

/**
 * Classifies one line received on La. Never throws: anything that is not a
 * well-formed command is `unrecognized`, except a `/login` line without
 * exactly a user name and a password, which is `bad-login` (answered `102`).
 *
 * Commands are case-sensitive and take no extra words. The content of `/to`
 * and `/toall` is everything after the single separating space, kept byte for
 * byte; it must not be empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCommand } from "./protocol.ts";
 *
 * assert.deepEqual(parseCommand("/to bob  hi "), {
 *   kind: "to",
 *   target: "bob",
 *   content: " hi ",
 * });
 * ```
 */
export function parseCommand(line: string): Command {
  if (line === LIST) return LIST_COMMAND;
  if (line === EXIT) return EXIT_COMMAND;
  if (line.startsWith(TO_PREFIX)) {
    const space = line.indexOf(" ", TO_PREFIX.length);
    if (space <= TO_PREFIX.length || space === line.length - 1) {
      return UNRECOGNIZED_COMMAND;
    }
    return {
      kind: "to",
      target: line.slice(TO_PREFIX.length, space),
      content: line.slice(space + 1),
    };
  }
  if (line.startsWith(TOALL_PREFIX)) {
    if (line.length === TOALL_PREFIX.length) return UNRECOGNIZED_COMMAND;
    return { kind: "toall", content: line.slice(TOALL_PREFIX.length) };
  }
  if (line === "/login" || line.startsWith(LOGIN_PREFIX)) {
    const words = line.slice(LOGIN_PREFIX.length).split(" ");
    if (words.length !== 2 || words[0] === "" || words[1] === "") {
      return BAD_LOGIN;
    }
    return { kind: "login", user: words[0], password: words[1] };
  }
  if (line.startsWith(PORT_PREFIX)) {
    const port = parsePortNumber(line.slice(PORT_PREFIX.length));
    if (port === undefined || port === 0) return UNRECOGNIZED_COMMAND;
    return { kind: "port", port };
  }
  return UNRECOGNIZED_COMMAND;
}

/**
 * A TCP port number written in decimal (at most five digits, no sign), from 0
 * to 65535; `undefined` for anything else. Port `0` is left to the caller:
 * `/port 0` is refused, while a server may listen on port 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePortNumber } from "./protocol.ts";
 *
 * assert.equal(parsePortNumber("30232"), 30232);
 * assert.equal(parsePortNumber("65536"), undefined);
 * ```
 */
export function parsePortNumber(text: string): number | undefined {
  if (!PORT_DIGITS.test(text)) return undefined;
  const port = Number(text);
  return port <= HIGHEST_PORT ? port : undefined;
}

/** `/login <user> <password>`: the first line a client sends. */
export function formatLogin(user: string, password: string): string {
  return LOGIN_PREFIX + user + " " + password;
}

/** `/port <port>`: tells the server where to connect link Lb. */
export function formatPort(port: number): string {
  return PORT_PREFIX + port;
}

/** `/to <target> <content>`: a private message. */
export function formatTo(target: string, content: string): string {
  return TO_PREFIX + target + " " + content;
}

/** `/toall <content>`: a message to every other online user. */
export function formatToAll(content: string): string {
  return TOALL_PREFIX + content;
}

/** `301 <names...>`: the answer to `/list`. */
export function formatList(names: readonly string[]): string {
  return LIST_CODE + " " + names.join(" ");
}

/** The names in a `301` answer, or `undefined` if the line is not one. */
export function parseList(line: string): string[] | undefined {
  const prefix = LIST_CODE + " ";
  if (!line.startsWith(prefix)) return undefined;
  return line.slice(prefix.length).split(" ");
}

/** A chat line the server sends to a receiver on Lb. */
export interface Delivery {
  /** `from` for a private message, `broadcastfrom` for a broadcast. */
  kind: "from" | "broadcastfrom";
  /** The user who sent the message. */
  sender: string;
  /** The message, byte for byte as the sender wrote it. */
  content: string;
}

/** `/from <sender> <content>` or `/broadcastfrom <sender> <content>`. */
export function formatDelivery(delivery: Delivery): string {
  const prefix = delivery.kind === "from" ? FROM_PREFIX : BROADCASTFROM_PREFIX;
  return prefix + delivery.sender + " " + delivery.content;
}

/** Reads a chat line received on Lb, or `undefined` if it is not one. */
export function parseDelivery(line: string): Delivery | undefined {
  let kind: Delivery["kind"];
  let rest: string;
  if (line.startsWith(FROM_PREFIX)) {
    kind = "from";
    rest = line.slice(FROM_PREFIX.length);
  } else if (line.startsWith(BROADCASTFROM_PREFIX)) {
    kind = "broadcastfrom";
    rest = line.slice(BROADCASTFROM_PREFIX.length);
  } else {
    return undefined;
  }
  const space = rest.indexOf(" ");
  if (space <= 0) return undefined;
  return { kind, sender: rest.slice(0, space), content: rest.slice(space + 1) };
}

const STATUS = /^[0-9]{3}(?: |$)/;

/** The three-digit status code that starts a server reply, if any. */
export function statusCode(line: string): number | undefined {
  return STATUS.test(line) ? Number(line.slice(0, 3)) : undefined;
}

/**
 * Whether `line` is a reply with the status code of `reply`, whatever its
 * wording: replies are recognised by their three-digit code, so
 * `102 Authentication Failed` counts as {@linkcode AUTH_FAILED}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AUTH_FAILED, hasStatusOf } from "./protocol.ts";
 *
 * assert.ok(hasStatusOf("102 Authentication Failed", AUTH_FAILED));
 * assert.ok(!hasStatusOf("401 Authentication failed", AUTH_FAILED));
 * ```
 */
export function hasStatusOf(line: string, reply: string): boolean {
  const code = statusCode(line);
  return code !== undefined && code === statusCode(reply);
}
