/**
 * Short, one-line descriptions of errors, for logs and for messages shown to
 * a user in place of a stack trace.
 *
 * @module
 */

/** A one-line description of `error`. */
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
