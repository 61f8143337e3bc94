/**
 * The users a server under test knows: the file the kit writes for a server
 * it starts, or the file given with `--users` for one already running, and
 * how checks take users from it.
 *
 * @module
 */

import { parseUsers, UsersFileError } from "../../lib/server/users_file.ts";
import { CheckSkipped } from "./check.ts";

/** A user name and its password. */
export interface User {
  /** The user name. */
  name: string;
  /** The password. */
  password: string;
}

/**
 * The roles checks ask for, in order: the Appendix's three, then others. A
 * server the kit starts knows each role many times over (`jacky`, `jacky2`,
 * …), so that checks sharing a server never meet each other's users.
 */
export const ROLES = [
  "jacky",
  "bob",
  "michael",
  "alice",
  "carol",
  "dave",
] as const;

/** A role a check can ask for. */
export type Role = typeof ROLES[number];

/** How many users of each role the kit's users file has. */
const USERS_PER_ROLE = 60;
/** How many numbered users it has, for 200 clients at once. */
export const CROWD_SIZE = 200;

const APPENDIX_PASSWORDS: Record<string, string> = {
  jacky: "12345",
  bob: "bob123",
  michael: "mic456",
};

function roleUser(role: Role, index: number): User {
  const name = index === 0 ? role : `${role}${index + 1}`;
  return { name, password: APPENDIX_PASSWORDS[name] ?? `${name}-pw` };
}

/** The `n`th numbered user (from 0), for the crowd of clients. */
export function crowdUser(n: number): User {
  const name = `user${String(n + 1).padStart(3, "0")}`;
  return { name, password: `pw${n + 1}` };
}

/** The users file the kit writes for a server it starts, as text. */
export function kitUsersFile(): string {
  const lines = ["# Written by the conformance kit; removed after the run."];
  for (let index = 0; index < USERS_PER_ROLE; index++) {
    for (const role of ROLES) {
      const user = roleUser(role, index);
      lines.push(`${user.name} ${user.password}`);
    }
  }
  for (let n = 0; n < CROWD_SIZE; n++) {
    const user = crowdUser(n);
    lines.push(`${user.name} ${user.password}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * The users of a users file given with `--users`, in the file's order.
 *
 * @throws {UsersFileError} for a malformed file, or one whose passwords are
 * stored hashed (the kit must send them).
 */
export function usersFromFile(text: string, source: string): User[] {
  const users = [...parseUsers(text, { source })]
    .map(([name, password]) => ({ name, password }));
  const hashed = users.find((user) => user.password.startsWith("scrypt$"));
  if (hashed) {
    throw new UsersFileError(
      `${source}: ${hashed.name}'s password is hashed; the kit needs it in plain`,
    );
  }
  return users;
}

/** Where a check takes its users from. */
export interface UserSource {
  /** A user for `role` that no earlier check on this server has used. */
  take(role: Role): User;
  /** `count` distinct users, for a crowd of clients. */
  crowd(count: number): User[];
  /** A listed user name that is not logged in by anyone. */
  stranger(): User;
}

/** Users of a server the kit started: fresh names for every check. */
export class KitUsers implements UserSource {
  readonly #used = new Map<Role, number>();
  #crowdUsed = false;

  take(role: Role): User {
    const index = this.#used.get(role) ?? 0;
    if (index >= USERS_PER_ROLE) {
      throw new Error(`the kit's users file has no more ${role} users`);
    }
    this.#used.set(role, index + 1);
    return roleUser(role, index);
  }

  crowd(count: number): User[] {
    if (this.#crowdUsed || count > CROWD_SIZE) {
      throw new Error("the crowd of users has been used on this server");
    }
    this.#crowdUsed = true;
    return Array.from({ length: count }, (_, n) => crowdUser(n));
  }

  stranger(): User {
    return this.take("dave");
  }
}

/**
 * Users of a server already running, from the file given with `--users`:
 * each role is the same user for every check (the first user is jacky's
 * role, the second bob's, and so on), as checks run one after another.
 */
export class GivenUsers implements UserSource {
  readonly #users: User[];

  constructor(users: User[]) {
    this.#users = users;
  }

  take(role: Role): User {
    const user = this.#users[ROLES.indexOf(role)];
    if (user === undefined) {
      throw new CheckSkipped(
        `needs ${
          ROLES.indexOf(role) + 1
        } users in the users file; it has ${this.#users.length}`,
      );
    }
    return user;
  }

  crowd(count: number): User[] {
    if (this.#users.length < count) {
      throw new CheckSkipped(
        `needs ${count} users in the users file; it has ${this.#users.length}`,
      );
    }
    return this.#users.slice(0, count);
  }

  stranger(): User {
    return this.take("dave");
  }
}
