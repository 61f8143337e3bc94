/**
 * The client's user-interface contract: what a session asks of its user and
 * shows them, the handout's prompts, and the plain line-by-line interface
 * used through a pipe. The interactive terminal front end implements the
 * same {@linkcode ClientUI}.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES } from "../net/line_framer.ts";
import type { TraceEvent } from "../trace.ts";

/** The prompt for the user name. */
export const USER_PROMPT = "Please input your user name:";
/** The prompt for the password. */
export const PASSWORD_PROMPT = "Please input your password:";

/** Longest line the user may enter, in bytes (the server's default limit). */
export const MAX_INPUT_LINE_BYTES = DEFAULT_MAX_LINE_BYTES;

/** What the session asks the user for. */
export type InputKind = "user" | "password" | "command";

/**
 * The user's side of a session: where input comes from and where replies,
 * chat and errors go.
 */
export interface ClientUI {
  /**
   * The next line the user enters, asked for as `kind` (the UI shows the
   * prompt for a user name or a password), or `null` once input has ended.
   */
  readLine(kind: InputKind): Promise<string | null>;
  /** Shows a reply the server sent on La. */
  showReply(line: string): void;
  /** Shows a line that arrived on Lb. */
  showIncoming(line: string): void;
  /** Shows a command the client sends by itself: `/exit` at end of input. */
  showAutoCommand(line: string): void;
  /** Shows an error line. */
  showError(line: string): void;
  /**
   * Resolves when the user wants to quit at once, without waiting for the
   * server (a second Ctrl-C); the session then ends with exit code 130.
   */
  readonly quit?: Promise<void>;
  /** Called once when the session ends: release the input. */
  close(): void;
}

/** Plain lines in and out: the client's behaviour on a pipe. */
export interface LineIO {
  /** The lines the user enters, in order. */
  input: AsyncIterable<string>;
  /** Shows a line to the user. Defaults to `console.log`. */
  output?: (line: string) => void;
  /** Shows an error line. Defaults to `console.error`. */
  error?: (line: string) => void;
  /** Told of every line sent or received on either link. */
  trace?: (event: TraceEvent) => void;
}

/** A ready-made {@linkcode ClientUI}. */
export interface UIIO {
  /** The user interface. */
  ui: ClientUI;
  /** Told of every line sent or received on either link. */
  trace?: (event: TraceEvent) => void;
}

/** What the client reads from and writes to. */
export type ClientIO = LineIO | UIIO;

/**
 * The plain {@linkcode ClientUI}: prompts, replies and incoming chat lines
 * are printed as they are, one per line, and input is read line by line.
 */
export function lineUI(io: LineIO): ClientUI {
  const input = io.input[Symbol.asyncIterator]();
  const output = io.output ?? console.log;
  const error = io.error ?? console.error;
  return {
    async readLine(kind) {
      if (kind === "user") output(USER_PROMPT);
      if (kind === "password") output(PASSWORD_PROMPT);
      const next = await input.next();
      return next.done ? null : next.value;
    },
    showReply: output,
    showIncoming: output,
    showAutoCommand() {},
    showError: error,
    close() {
      input.return?.().catch(() => {});
    },
  };
}
