/**
 * Passwords as the users file stores them: in plain text (the handout's
 * format) or as scrypt hashes, `scrypt$N=16384,r=8,p=1$<salt>$<hash>` with
 * the salt and hash in base64. Checks take the same time whether or not the
 * password is right.
 *
 * @module
 */

import type { ScryptOptions } from "node:crypto";

const PREFIX = "scrypt$";
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const DEFAULT_COST = 16_384;
// Limits on a stored hash's parameters: a login must not be able to make
// the server spend seconds or gigabytes.
const MAX_COST = 1 << 20;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const PARAMS = /^N=(\d+),r=(\d+),p=(\d+)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

interface ScryptHash {
  options: ScryptOptions;
  salt: Uint8Array;
  key: Uint8Array;
}

/** Options for {@linkcode hashPassword}. */
export interface HashPasswordOptions {
  /** scrypt's CPU and memory cost `N`, a power of two. Default 16,384. */
  cost?: number;
}

/** Hashes `password` into the users file's scrypt format. */
export async function hashPassword(
  password: string,
  options: HashPasswordOptions = {},
): Promise<string> {
  const scryptOptions = { N: options.cost ?? DEFAULT_COST, r: 8, p: 1 };
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await derive(password, salt, scryptOptions, KEY_BYTES);
  const params =
    `N=${scryptOptions.N},r=${scryptOptions.r},p=${scryptOptions.p}`;
  return `${PREFIX}${params}$${base64(salt)}$${base64(key)}`;
}

/**
 * Why a stored password cannot be used, or `undefined` if it can. Anything
 * not starting with `scrypt$` is a plain password.
 */
export function checkStoredPassword(stored: string): string | undefined {
  if (!stored.startsWith(PREFIX)) return undefined;
  return parseHash(stored) === undefined
    ? 'malformed scrypt hash (expected "scrypt$N=…,r=…,p=…$<salt>$<hash>")'
    : undefined;
}

/**
 * Whether `given` matches `stored` (plain or hashed). The comparison takes
 * the same time wherever the two differ.
 */
export async function verifyPassword(
  stored: string,
  given: string,
): Promise<boolean> {
  if (!stored.startsWith(PREFIX)) return equalInConstantTime(stored, given);
  const hash = parseHash(stored);
  if (hash === undefined) return false;
  try {
    const key = await derive(given, hash.salt, hash.options, hash.key.length);
    return equalBytes(key, hash.key);
  } catch {
    // Parameters scrypt refuses to run (too much memory, say) match nothing.
    return false;
  }
}

const encoder = new TextEncoder();

function equalInConstantTime(a: string, b: string): boolean {
  return equalBytes(encoder.encode(a), encoder.encode(b));
}

/**
 * Compares every byte whatever the first difference; only the lengths
 * (which the stored side fixes) shape the time taken.
 */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= a[i % a.length] ^ b[i];
  return difference === 0;
}

function parseHash(stored: string): ScryptHash | undefined {
  const parts = stored.slice(PREFIX.length).split("$");
  if (parts.length !== 3) return undefined;
  const [params, salt, key] = parts;
  const match = params.match(PARAMS);
  if (match === null || !BASE64.test(salt) || !BASE64.test(key)) {
    return undefined;
  }
  const [N, r, p] = match.slice(1).map(Number);
  if (
    N < 2 || N > MAX_COST || (N & (N - 1)) !== 0 || r < 1 || r > 64 ||
    p < 1 || p > 16 || 128 * N * r > MAX_MEMORY_BYTES
  ) {
    return undefined;
  }
  const options = { N, r, p, maxmem: MAX_MEMORY_BYTES + 1024 * 1024 };
  return {
    options,
    salt: Uint8Array.from(atob(salt), (c) => c.charCodeAt(0)),
    key: Uint8Array.from(atob(key), (c) => c.charCodeAt(0)),
  };
}

async function derive(
  password: string,
  salt: Uint8Array,
  options: ScryptOptions,
  length: number,
): Promise<Uint8Array> {
  // Loaded on first use: a server with plain passwords starts faster.
  const { scrypt } = await import("node:crypto");
  return await new Promise((resolve, reject) => {
    scrypt(password, salt, length, options, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}
