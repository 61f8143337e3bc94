/**
 * The WebSocket handshake and frames written by hand over TCP, for what a
 * WebSocket API hides: the HTTP status of a refused upgrade, and a client
 * that writes frames but never reads.
 *
 * @module
 */

import { concat } from "./bytes.ts";
import type { Address } from "./wire_peer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEADER_END = encoder.encode("\r\n\r\n");

/** An upgrade request's outcome: the status, and the socket if it opened. */
export interface Upgrade {
  /** The HTTP status code. */
  status: number;
  /** Every response header line, lower-cased names. */
  headers: Map<string, string>;
  /** The connection; close it. */
  conn: Deno.TcpConn;
}

/**
 * Sends a WebSocket upgrade request for `path` with `headers` added (Host,
 * Upgrade, Connection, key and version are filled in unless given) and
 * reads the response head.
 */
export async function upgrade(
  address: Address,
  path: string,
  headers: Record<string, string> = {},
): Promise<Upgrade> {
  const conn = await Deno.connect(address);
  const all: Record<string, string> = {
    host: `${address.hostname}:${address.port}`,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    ...headers,
  };
  const head = [`GET ${path} HTTP/1.1`]
    .concat(Object.entries(all).map(([name, value]) => `${name}: ${value}`))
    .join("\r\n") + "\r\n\r\n";
  await conn.write(encoder.encode(head));
  let received: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(4096);
  for (;;) {
    const at = indexOf(received, HEADER_END);
    if (at !== -1) {
      const lines = decoder.decode(received.subarray(0, at)).split("\r\n");
      const status = Number(lines[0].split(" ")[1]);
      const map = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        map.set(
          line.slice(0, colon).toLowerCase(),
          line.slice(colon + 1).trim(),
        );
      }
      return { status, headers: map, conn };
    }
    const count = await conn.read(buffer);
    if (count === null) throw new Error("connection closed before a response");
    received = concat([received, buffer.subarray(0, count)]);
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/** A client's text frame: final, masked (as RFC 6455 requires of clients). */
export function textFrame(text: string): Uint8Array {
  const payload = encoder.encode(text);
  const length = payload.length;
  const head = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = new Uint8Array(head + 4 + length);
  frame[0] = 0x81;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else if (length < 65536) {
    frame[1] = 0x80 | 126;
    new DataView(frame.buffer).setUint16(2, length);
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  const mask = crypto.getRandomValues(new Uint8Array(4));
  frame.set(mask, head);
  for (let i = 0; i < length; i++) {
    frame[head + 4 + i] = payload[i] ^ mask[i & 3];
  }
  return frame;
}

/** Writes all of `bytes`. */
export async function writeAll(
  conn: Deno.TcpConn,
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}
