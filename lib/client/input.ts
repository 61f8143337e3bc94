/**
 * The lines a user types, read from standard input or any byte stream.
 *
 * @module
 */

import {
  type ByteSource,
  LINE_NOT_UTF8,
  LINE_TOO_LONG,
  LineReader,
} from "../net/line_reader.ts";
import { MAX_INPUT_LINE_BYTES } from "./ui.ts";

/** Options for {@linkcode inputLines}. */
export interface InputLinesOptions {
  /** Told of each line skipped as too long. Defaults to `console.error`. */
  onSkip?: (message: string) => void;
}

/**
 * Turns a byte stream (standard input) into the lines a user entered. A last
 * line without `\n` counts; a line over {@linkcode MAX_INPUT_LINE_BYTES} is
 * skipped with a message to `onSkip`.
 */
export async function* inputLines(
  source: ByteSource,
  options: InputLinesOptions = {},
): AsyncGenerator<string> {
  const onSkip = options.onSkip ?? console.error;
  const reader = new LineReader(source, {
    maxLineBytes: MAX_INPUT_LINE_BYTES,
    strictUtf8: false,
    acceptUnterminated: true,
  });
  for (;;) {
    const line = await reader.readLine();
    if (line === null) return;
    if (line === LINE_TOO_LONG) {
      onSkip(
        `error: line longer than ${MAX_INPUT_LINE_BYTES} bytes, not sent`,
      );
    } else if (line !== LINE_NOT_UTF8) {
      yield line;
    }
  }
}
