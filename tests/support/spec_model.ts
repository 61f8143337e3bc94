/**
 * Reference models of the wire format, written from the handout and the
 * protocol decisions (README, "Decisions where the handout is silent"), not
 * from `lib/`: the property and fuzz tests compare the code under test with
 * them.
 *
 * - {@linkcode frameModel}: how a byte stream splits into lines (`\n` ends a
 *   line, one `\r` before it is dropped, a line longer than the limit counts
 *   as one too-long line).
 * - {@linkcode classifyModel}: which command a decoded line is (decisions 1,
 *   3, 4 and 8).
 * - {@linkcode decodeModel}: strict UTF-8, byte for byte (a BOM is kept).
 *
 * @module
 */

/** Stands in for a line longer than the limit, in the models. */
export const TOO_LONG = "<too long>" as const;

/** Stands in for a line that is not valid UTF-8, in the models. */
export const NOT_UTF8 = "<not UTF-8>" as const;

/** A framed line in the model: its bytes, or the too-long mark. */
export type ModelFrame = Uint8Array | typeof TOO_LONG;

const LF = 0x0a;
const CR = 0x0d;

/** Bytes of a line after dropping one trailing `\r`, or the too-long mark. */
function finishLine(bytes: Uint8Array, maxLineBytes: number): ModelFrame {
  const line = bytes.length > 0 && bytes[bytes.length - 1] === CR
    ? bytes.subarray(0, bytes.length - 1)
    : bytes;
  return line.length > maxLineBytes ? TOO_LONG : line;
}

/**
 * Splits a whole stream into lines: every complete line, and the line made
 * of the bytes after the last `\n` (`undefined` when there are none), which
 * a reader that accepts an unterminated last line reports at the end.
 */
export function frameModel(
  stream: Uint8Array,
  maxLineBytes: number,
): { lines: ModelFrame[]; last: ModelFrame | undefined } {
  const lines: ModelFrame[] = [];
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] !== LF) continue;
    lines.push(finishLine(stream.subarray(start, i), maxLineBytes));
    start = i + 1;
  }
  const rest = stream.subarray(start);
  return {
    lines,
    last: rest.length === 0 ? undefined : finishLine(rest, maxLineBytes),
  };
}

const STRICT = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text of a line's bytes, or {@linkcode NOT_UTF8}. */
export function decodeModel(bytes: Uint8Array): string | typeof NOT_UTF8 {
  try {
    return STRICT.decode(bytes);
  } catch {
    return NOT_UTF8;
  }
}

/** The kinds of command a line on La can be. */
export type ModelKind =
  | "login"
  | "bad-login"
  | "port"
  | "list"
  | "to"
  | "toall"
  | "exit"
  | "unrecognized";

/** Every kind, for checks that a classification is one of them. */
export const MODEL_KINDS: readonly ModelKind[] = [
  "login",
  "bad-login",
  "port",
  "list",
  "to",
  "toall",
  "exit",
  "unrecognized",
];

/** A classified line, with the fields the server acts on. */
export type ModelCommand =
  | { kind: "login"; user: string; password: string }
  | { kind: "bad-login" }
  | { kind: "port"; port: number }
  | { kind: "list" }
  | { kind: "to"; target: string; content: string }
  | { kind: "toall"; content: string }
  | { kind: "exit" }
  | { kind: "unrecognized" };

/**
 * Classifies a decoded line received on La, as the protocol decisions say:
 * commands are case-sensitive and take no extra words; `/to` needs a target
 * without spaces and non-empty content, `/toall` non-empty content (content
 * is everything after the separating space); a `/login` line without exactly
 * a user name and a password, one space between each, is a failed login; a
 * port is 1 to 65535 written in ASCII digits.
 */
export function classifyModel(line: string): ModelCommand {
  if (line === "/list") return { kind: "list" };
  if (line === "/exit") return { kind: "exit" };
  let match = /^\/to ([^ ]+) ([^]+)$/.exec(line);
  if (match !== null) {
    return { kind: "to", target: match[1], content: match[2] };
  }
  match = /^\/toall ([^]+)$/.exec(line);
  if (match !== null) return { kind: "toall", content: match[1] };
  if (line === "/login" || line.startsWith("/login ")) {
    match = /^\/login ([^ ]+) ([^ ]+)$/.exec(line);
    return match === null
      ? { kind: "bad-login" }
      : { kind: "login", user: match[1], password: match[2] };
  }
  match = /^\/port ([0-9]{1,5})$/.exec(line);
  if (match !== null) {
    const port = Number(match[1]);
    if (port >= 1 && port <= 65535) return { kind: "port", port };
  }
  return { kind: "unrecognized" };
}
