/**
 * Authentication: checking a user name and password against the users file,
 * in the same time whether the name is known or not, and slowing down an
 * address that keeps failing.
 *
 * @module
 */

import { delay } from "../async/delay.ts";
import { verifyPassword } from "./credentials.ts";
import type { EventLog } from "./log.ts";
import { LoginThrottle, type LoginThrottleOptions } from "./login_throttle.ts";

/** Who is trying to log in. */
export interface LoginAttempt {
  /** The client's IP address: failures are counted per address. */
  address: string;
  /** The client's address and port, for the log. */
  peer: string;
}

/** What an {@linkcode Authenticator} works with. */
export interface AuthenticatorOptions {
  /** Delays for repeated failures, or `false` for none. */
  throttle: LoginThrottleOptions | false;
  /** Where failed logins are logged. */
  log: EventLog;
  /** Cuts throttle delays short when the server shuts down. */
  signal: AbortSignal;
}

/** Checks logins against the users file. */
export class Authenticator {
  readonly #users: ReadonlyMap<string, string>;
  readonly #throttle: LoginThrottle | undefined;
  readonly #log: EventLog;
  readonly #signal: AbortSignal;
  // Checked when a user name is unknown, so that answering takes as long as
  // for a known one.
  readonly #decoy: string;
  #delaying = 0;

  /** Checks against `users` (user name to stored password). */
  constructor(
    users: ReadonlyMap<string, string>,
    options: AuthenticatorOptions,
  ) {
    this.#users = users;
    this.#throttle = options.throttle === false
      ? undefined
      : new LoginThrottle(options.throttle);
    this.#log = options.log;
    this.#signal = options.signal;
    this.#decoy =
      [...users.values()].find((stored) => stored.startsWith("scrypt$")) ?? "";
  }

  /** Answers being delayed right now. */
  get delaying(): number {
    return this.#delaying;
  }

  /** Whether `password` is `user`'s; as slow for an unknown user. */
  async verify(user: string, password: string): Promise<boolean> {
    const stored = this.#users.get(user);
    const valid = await verifyPassword(stored ?? this.#decoy, password);
    return stored !== undefined && valid;
  }

  /** Records a successful login: the address starts over. */
  succeeded(attempt: LoginAttempt): void {
    this.#throttle?.success(attempt.address);
  }

  /**
   * Records a refused login and logs why; resolves when the refusal may be
   * answered, after a delay once the address keeps failing.
   */
  async refused(attempt: LoginAttempt, why: string): Promise<void> {
    const wait = this.#throttle?.failure(attempt.address) ?? 0;
    this.#log.emit({
      level: "info",
      event: "login-failed",
      message: `${attempt.peer} login failed: ${why}${
        wait > 0 ? ` (answer delayed ${wait} ms)` : ""
      }`,
      peer: attempt.peer,
      cause: why,
      ms: wait,
    });
    if (wait === 0) return;
    // Cut short by a shutdown, when the answer no longer matters.
    this.#delaying++;
    await delay(wait, { signal: this.#signal });
    this.#delaying--;
  }
}
