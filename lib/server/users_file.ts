/**
 * The users file: one `username password` pair per line.
 *
 * Blank lines and lines starting with `#` are ignored; `\r\n` line ends are
 * accepted. Names and passwords contain no spaces (the handout's assumption),
 * so a line must hold exactly two words separated by spaces or tabs. The
 * password may be stored as an scrypt hash (see `credentials.ts`).
 *
 * @module
 */

import { checkStoredPassword } from "./credentials.ts";

/** A problem with the users file, with a message fit to show a user. */
export class UsersFileError extends Error {
  /** Creates the error; `message` names the file and, if any, the line. */
  constructor(message: string) {
    super(message);
    this.name = "UsersFileError";
  }
}

/** Options for {@linkcode parseUsers}. */
export interface ParseUsersOptions {
  /** How to name the file in error messages. */
  source?: string;
}

/**
 * Parses the text of a users file into a map from user name to stored
 * password (plain, or an scrypt hash).
 *
 * @throws {UsersFileError} on a malformed line, a malformed hash or a
 * repeated user name.
 */
export function parseUsers(
  text: string,
  options: ParseUsersOptions = {},
): Map<string, string> {
  const source = options.source ?? "users file";
  const users = new Map<string, string>();
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${source}:${index + 1}`;
    const words = line.split(/[ \t]+/);
    if (words.length !== 2) {
      throw new UsersFileError(
        `${where}: expected "username password", found ${words.length} word${
          words.length === 1 ? "" : "s"
        }`,
      );
    }
    const [name, password] = words;
    const problem = checkStoredPassword(password);
    if (problem !== undefined) {
      throw new UsersFileError(`${where}: ${problem}`);
    }
    if (users.has(name)) {
      throw new UsersFileError(`${where}: user "${name}" is listed twice`);
    }
    users.set(name, password);
  }
  return users;
}

/**
 * Reads and parses a users file.
 *
 * @throws {UsersFileError} if the file cannot be read or is malformed.
 */
export async function loadUsers(path: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new UsersFileError(
      `cannot read users file ${path}: ${describeReadError(error)}`,
    );
  }
  return parseUsers(text, { source: path });
}

function describeReadError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  if (error instanceof Deno.errors.NotCapable) {
    return "read access not granted (run with --allow-read)";
  }
  return error instanceof Error ? error.message : String(error);
}
