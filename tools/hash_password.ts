/**
 * Prints a users-file line with an scrypt-hashed password:
 *
 * ```sh
 * deno run tools/hash_password.ts <user name>     # or: deno task hash-password <user name>
 * ```
 *
 * On a terminal the password is read without echo, twice; from a pipe, the
 * first line is the password.
 *
 * @module
 */

import {
  describeError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
} from "../lib/errors.ts";
import { hashPassword } from "../lib/server/credentials.ts";
import { LineReader } from "../lib/net/line_reader.ts";

const USAGE = "usage: hash_password.ts <user name>";
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const BACKSPACE = 0x7f;
const CTRL_H = 0x08;

/** Reads one line from a terminal without echoing it; `null` on Ctrl-C/D. */
async function readHidden(prompt: string): Promise<string | null> {
  const encoder = new TextEncoder();
  await Deno.stderr.write(encoder.encode(prompt));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buffer = new Uint8Array(64);
  try {
    for (;;) {
      const count = await Deno.stdin.read(buffer);
      if (count === null) return null;
      for (const byte of buffer.subarray(0, count)) {
        if (byte === CTRL_C || (byte === CTRL_D && bytes.length === 0)) {
          return null;
        }
        if (byte === 0x0d || byte === 0x0a) {
          return new TextDecoder().decode(new Uint8Array(bytes));
        }
        if (byte === BACKSPACE || byte === CTRL_H) {
          // Drop a whole UTF-8 character: its continuation bytes first.
          while (bytes.length > 0 && (bytes.pop()! & 0xc0) === 0x80);
        } else if (byte >= 0x20) {
          bytes.push(byte);
        }
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    await Deno.stderr.write(encoder.encode("\n"));
  }
}

async function readPassword(): Promise<string | null> {
  if (!Deno.stdin.isTerminal()) {
    const line = await new LineReader(Deno.stdin, { acceptUnterminated: true })
      .readLine();
    return typeof line === "string" ? line : null;
  }
  const first = await readHidden("Password: ");
  if (first === null) return null;
  const again = await readHidden("Password again: ");
  if (again === null) return null;
  if (first !== again) throw new Error("the two passwords differ");
  return first;
}

async function main(args: string[]): Promise<number> {
  if (args.length !== 1 || /\s/.test(args[0]) || args[0] === "") {
    console.error(`error: expected one user name without spaces\n${USAGE}`);
    return EXIT_USAGE;
  }
  let password: string | null;
  try {
    password = await readPassword();
  } catch (error) {
    console.error(`error: ${describeError(error)}`);
    return EXIT_FAILURE;
  }
  if (password === null || password === "") {
    console.error("error: no password given");
    return EXIT_FAILURE;
  }
  if (/\s/.test(password)) {
    console.error(
      "error: a password cannot contain spaces (users file format)",
    );
    return EXIT_FAILURE;
  }
  console.log(`${args[0]} ${await hashPassword(password)}`);
  return EXIT_OK;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
