/**
 * Argument checks shared by the entry scripts and tools.
 *
 * @module
 */

import { UsageError } from "./errors.ts";
import { parsePortNumber } from "./protocol.ts";

/** Options for {@linkcode parsePort}. */
export interface ParsePortOptions {
  /** Whether `0` (any free port) is allowed. */
  allowZero?: boolean;
  /** What the port is, for the error message; default `port`. */
  name?: string;
}

/**
 * Reads a TCP port number given as an argument.
 *
 * @throws {UsageError} if `text` is not a whole number in range.
 */
export function parsePort(
  text: string,
  options: ParsePortOptions = {},
): number {
  const low = options.allowZero ? 0 : 1;
  const port = parsePortNumber(text);
  if (port === undefined || port < low) {
    throw new UsageError(
      `${
        options.name ?? "port"
      } must be a number from ${low} to 65535, not "${text}"`,
    );
  }
  return port;
}

/** Options for {@linkcode parseSeconds} and {@linkcode parseCount}. */
export interface ParseOptionOptions {
  /** The option's name, for the error message. */
  name: string;
}

/**
 * Reads a positive duration in seconds, such as `10` or `0.5`.
 *
 * @throws {UsageError} if `text` is not a positive number.
 */
export function parseSeconds(
  text: string,
  options: ParseOptionOptions,
): number {
  const seconds = Number(text);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text) || !(seconds > 0)) {
    throw new UsageError(
      `${options.name} must be a positive number of seconds, not "${text}"`,
    );
  }
  return seconds;
}

/**
 * Reads a positive whole number.
 *
 * @throws {UsageError} if `text` is not a whole number of at least 1.
 */
export function parseCount(text: string, options: ParseOptionOptions): number {
  const count = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(count) || count < 1) {
    throw new UsageError(
      `${options.name} must be a whole number of at least 1, not "${text}"`,
    );
  }
  return count;
}
