/**
 * The web client's frames: one small JSON object per WebSocket text frame.
 * What a page asks for becomes a protocol line here, through the formatters
 * of `lib/protocol.ts`, and what the server says becomes a frame; the page
 * itself never spells a protocol line. `docs/web.md` describes every frame.
 *
 * @module
 */

import { LINE_NOT_UTF8, LINE_TOO_LONG } from "../net/line_reader.ts";
import {
  EXIT,
  formatLogin,
  formatTo,
  formatToAll,
  LIST,
  LIST_CODE,
  parseDelivery,
  parseList,
  statusCode,
} from "../protocol.ts";

/** What one frame from a page asks for. */
export type ClientFrame =
  /** A command for the session, as its protocol line. */
  | { kind: "command"; line: string }
  /** The page has shown the chat message in flight: its `302`. */
  | { kind: "received" }
  /**
   * A frame that is no command: answered `401` like a line that cannot be
   * read (`mark`), after a notice saying why.
   */
  | {
    kind: "refused";
    why: string;
    mark: typeof LINE_TOO_LONG | typeof LINE_NOT_UTF8;
  };

/**
 * The most bytes a frame may have before it is refused unread: enough for a
 * line at the limit with every character escaped in JSON (six bytes each at
 * worst) and the frame around it.
 */
export function maxFrameBytes(maxLineBytes: number): number {
  return 6 * maxLineBytes + 1024;
}

const RECEIVED: ClientFrame = { kind: "received" };
const LIST_FRAME: ClientFrame = { kind: "command", line: LIST };
const EXIT_FRAME: ClientFrame = { kind: "command", line: EXIT };

/**
 * Reads one frame from a page. Never throws: whatever is not a frame this
 * server knows is `refused`, with the reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseClientFrame } from "./frames.ts";
 *
 * assert.deepEqual(
 *   parseClientFrame('{"op":"to","to":"bob","text":"Hi!"}', 65536),
 *   { kind: "command", line: "/to bob Hi!" },
 * );
 * ```
 */
export function parseClientFrame(
  data: unknown,
  maxLineBytes: number,
): ClientFrame {
  if (typeof data !== "string") {
    return refused("binary frames are not accepted: send JSON text");
  }
  // Checked before parsing, so that a huge frame costs no more than this.
  if (data.length > maxFrameBytes(maxLineBytes)) {
    return tooLong(`a frame of ${data.length} characters`, maxLineBytes);
  }
  let frame: unknown;
  try {
    frame = JSON.parse(data);
  } catch {
    return refused("a frame must be one JSON object");
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
    return refused("a frame must be one JSON object");
  }
  const { op, user, password, to, text } = frame as Record<string, unknown>;
  let line: string;
  switch (op) {
    case "received":
      return RECEIVED;
    case "list":
      return LIST_FRAME;
    case "exit":
      return EXIT_FRAME;
    case "login":
      if (typeof user !== "string" || typeof password !== "string") {
        return refused('op "login" needs "user" and "password" as strings');
      }
      line = formatLogin(user, password);
      break;
    case "to":
      if (typeof to !== "string" || typeof text !== "string") {
        return refused('op "to" needs "to" and "text" as strings');
      }
      line = formatTo(to, text);
      break;
    case "toall":
      if (typeof text !== "string") {
        return refused('op "toall" needs "text" as a string');
      }
      line = formatToAll(text);
      break;
    default:
      return refused(`unknown op ${JSON.stringify(op) ?? "(none)"}`);
  }
  // A line break would end the line early for a terminal receiver.
  if (line.includes("\n")) return refused("a message cannot hold a newline");
  const bytes = utf8Length(line);
  if (bytes > maxLineBytes) {
    return tooLong(`a line of ${bytes} bytes`, maxLineBytes);
  }
  return { kind: "command", line };
}

function refused(why: string): ClientFrame {
  return { kind: "refused", why, mark: LINE_NOT_UTF8 };
}

function tooLong(what: string, maxLineBytes: number): ClientFrame {
  return {
    kind: "refused",
    why: `${what} is over the limit of ${maxLineBytes} bytes`,
    mark: LINE_TOO_LONG,
  };
}

/**
 * The length of `text` in UTF-8 bytes; a lone surrogate counts as the three
 * bytes of the U+FFFD it is written as.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      bytes += 1;
    } else if (
      code >= 0xd800 && code <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      // A pair: two code units, four bytes.
      bytes += 2;
      i++;
    } else {
      bytes += 2;
    }
  }
  return bytes;
}

/** The first frame of every connection: the limits the page must keep. */
export function helloFrame(maxLineBytes: number): string {
  return JSON.stringify({ hello: { maxLineBytes } });
}

const replies = new Map<string, string>();
const MAX_CACHED_REPLIES = 64;

/**
 * The frame that carries a reply line: the line, its status code, and for a
 * `/list` answer the names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replyFrame } from "./frames.ts";
 *
 * assert.equal(
 *   replyFrame("301 jacky bob"),
 *   '{"reply":"301 jacky bob","code":301,"names":["jacky","bob"]}',
 * );
 * ```
 */
export function replyFrame(line: string): string {
  const cached = replies.get(line);
  if (cached !== undefined) return cached;
  const code = statusCode(line) ?? null;
  if (code === LIST_CODE) {
    return JSON.stringify({ reply: line, code, names: parseList(line) });
  }
  const frame = JSON.stringify({ reply: line, code });
  // Every other reply is one of a few fixed lines: encode each once.
  if (replies.size < MAX_CACHED_REPLIES) replies.set(line, frame);
  return frame;
}

let lastChatLine = "";
let lastChatFrame: string | undefined;

/**
 * The frame that carries a chat line, or `undefined` if `line` is not one.
 * A `/toall` sends the same line to every receiver: it is encoded once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatFrame } from "./frames.ts";
 *
 * assert.equal(
 *   chatFrame("/from bob Hi!"),
 *   '{"chat":{"kind":"from","sender":"bob","content":"Hi!"}}',
 * );
 * ```
 */
export function chatFrame(line: string): string | undefined {
  if (line === lastChatLine) return lastChatFrame;
  const delivery = parseDelivery(line);
  lastChatLine = line;
  lastChatFrame = delivery === undefined
    ? undefined
    : JSON.stringify({ chat: delivery });
  return lastChatFrame;
}

/** A frame that tells the page something in words, such as why a frame was refused. */
export function noticeFrame(text: string): string {
  return JSON.stringify({ notice: text });
}
