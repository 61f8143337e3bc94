/**
 * How the terminal client shows what it receives: incoming chat as chat (a
 * time, the sender, the content, broadcasts marked), the server's replies
 * with their status code, errors; with colour or without.
 *
 * Text from the network is shown with its control characters made visible,
 * so that nobody can move the cursor or recolour a terminal by sending
 * escape sequences in a message.
 *
 * @module
 */

import { parseDelivery, statusCode } from "../protocol.ts";

/** SGR colour codes used by the view. */
const BOLD = "1";
const DIM = "2";
const RED = "31";
const GREEN = "32";
/** Sender colours: no red, which marks failures. */
const SENDER_COLOURS = ["32", "33", "34", "35", "36", "92", "94", "95", "96"];

/** Status codes that say something went wrong. */
const FAILURE_CODES = new Set([102, 202, 304, 401]);

/** `text` in the SGR style `sgr` when `colour` is on; `text` otherwise. */
function paint(text: string, sgr: string, colour: boolean): string {
  return colour ? `\x1b[${sgr}m${text}\x1b[0m` : text;
}

/**
 * `text` with control characters replaced by visible stand-ins: C0 controls
 * by their Unicode control pictures (ESC becomes `␛`), DEL by `␡`, C1
 * controls by `�`.
 */
export function sanitize(text: string): string {
  return text.replace(/\p{Cc}/gu, (char) => {
    const code = char.charCodeAt(0);
    if (code < 0x20) return String.fromCharCode(0x2400 + code);
    if (code === 0x7f) return "\u2421";
    return "\ufffd";
  });
}

/** `HH:MM` in local time. */
export function formatTime(at: Date): string {
  const hours = String(at.getHours()).padStart(2, "0");
  return `${hours}:${String(at.getMinutes()).padStart(2, "0")}`;
}

/** The colour a sender's name is shown in: the same name, the same colour. */
export function senderColour(name: string): string {
  // FNV-1a over the code points.
  let hash = 0x811c9dc5;
  for (const char of name) {
    hash = Math.imul(hash ^ char.codePointAt(0)!, 0x01000193) >>> 0;
  }
  return SENDER_COLOURS[hash % SENDER_COLOURS.length];
}

/**
 * A line received on Lb, as chat:
 * `[14:05] bob: Hello!` for `/from bob Hello!`, and
 * `[14:05] bob (to all): OK.` for `/broadcastfrom bob OK.`
 * A line that is not a chat line is shown as it came.
 */
export function formatIncoming(
  line: string,
  at: Date,
  colour: boolean,
): string {
  const delivery = parseDelivery(line);
  if (delivery === undefined) return sanitize(line);
  const time = paint(`[${formatTime(at)}]`, DIM, colour);
  const sender = paint(
    sanitize(delivery.sender),
    `${BOLD};${senderColour(delivery.sender)}`,
    colour,
  );
  const mark = delivery.kind === "broadcastfrom"
    ? " " + paint("(to all)", BOLD, colour)
    : "";
  return `${time} ${sender}${mark}: ${sanitize(delivery.content)}`;
}

/**
 * A reply from the server on La, shown whole so its status code stays
 * visible; the code is green, or red for a failure (102, 202, 304, 401).
 */
export function formatReply(line: string, colour: boolean): string {
  const text = sanitize(line);
  const code = statusCode(line);
  if (code === undefined || !colour) return text;
  const sgr = FAILURE_CODES.has(code) ? `${BOLD};${RED}` : `${BOLD};${GREEN}`;
  return paint(text.slice(0, 3), sgr, colour) + text.slice(3);
}

/** An error line, in red. */
export function formatError(line: string, colour: boolean): string {
  return paint(sanitize(line), RED, colour);
}

/** A prompt, in bold. */
export function formatPrompt(prompt: string, colour: boolean): string {
  return paint(prompt, BOLD, colour);
}
