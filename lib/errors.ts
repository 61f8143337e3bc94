/**
 * Errors at the programs' edges: the exit codes, the error for a wrong
 * command line, and short one-line descriptions of errors, shown to a user in
 * place of a stack trace.
 *
 * @module
 */

/** Exit code for success. */
export const EXIT_OK = 0;
/** Exit code for a failure at run time. */
export const EXIT_FAILURE = 1;
/** Exit code for wrong command-line arguments. */
export const EXIT_USAGE = 2;
/** Exit code when the user quits at once (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** A wrong command line; the message is shown with the usage line. */
export class UsageError extends Error {
  /** Creates the error with a message naming what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * A one-line description of `error`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeError } from "./errors.ts";
 *
 * const refused = new Deno.errors.ConnectionRefused("os error 111");
 * assert.equal(describeError(refused), "connection refused");
 * ```
 */
export function describeError(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionReset) return "connection reset";
  if (error instanceof Deno.errors.BrokenPipe) return "connection broken";
  if (error instanceof Deno.errors.ConnectionRefused) {
    return "connection refused";
  }
  if (error instanceof Deno.errors.ConnectionAborted) {
    return "connection aborted";
  }
  if (error instanceof Deno.errors.TimedOut) return "timed out";
  if (
    error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted
  ) {
    return "connection closed";
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

/** Why a port could not be listened on, in one line. */
export function describeListenError(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) return "it is already in use";
  if (error instanceof Deno.errors.PermissionDenied) {
    return "permission denied (ports below 1024 need privileges)";
  }
  return describeError(error);
}
