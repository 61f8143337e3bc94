/**
 * The load generator's users: user `i` is named `u<i>` with password `p<i>`,
 * so workers and the users file agree without passing lists around.
 *
 * @module
 */

import { join } from "node:path";

/** The name of simulated user `index`. */
export function userName(index: number): string {
  return `u${index}`;
}

/** The password of simulated user `index`. */
export function userPassword(index: number): string {
  return `p${index}`;
}

/** The text of a users file for users `0` to `count - 1`. */
export function usersFileText(count: number): string {
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    lines.push(`${userName(index)} ${userPassword(index)}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * Writes a users file for `count` users into `directory` and returns its
 * path.
 */
export async function writeUsersFile(
  directory: string,
  count: number,
): Promise<string> {
  const path = join(directory, `users_${count}.txt`);
  await Deno.writeTextFile(path, usersFileText(count));
  return path;
}
