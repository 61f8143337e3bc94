/**
 * Helpers shared by the entry scripts: argument checks and exit codes.
 *
 * @module
 */

/** Exit code for wrong command-line arguments. */
export const EXIT_USAGE = 2;
/** Exit code for a failure at run time. */
export const EXIT_FAILURE = 1;

/** A wrong command line; the message is shown with the usage line. */
export class UsageError extends Error {
  /** Creates the error with a message naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options for {@linkcode parsePort}. */
export interface ParsePortOptions {
  /** Whether `0` (any free port) is allowed. */
  allowZero?: boolean;
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
  if (
    !/^[0-9]{1,5}$/.test(text) || Number(text) < low || Number(text) > 65535
  ) {
    throw new UsageError(
      `port must be a number from ${low} to 65535, not "${text}"`,
    );
  }
  return Number(text);
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
