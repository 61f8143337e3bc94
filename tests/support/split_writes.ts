/**
 * Bytes written in pieces that the server provably reads apart: after each
 * piece, the test waits until the kernel shows the piece taken, so a line
 * (or a character) split across writes is split in what the server reads,
 * however loaded the machine is.
 *
 * @module
 */

import { pollUntil } from "./faults.ts";
import { type SocketRow, tcpSockets } from "./sockets.ts";
import type { WirePeer } from "./wire_peer.ts";

/**
 * Writes `pieces` on `peer`'s La one at a time. After each, waits until the
 * other end has acknowledged every byte (this end's send queue is empty)
 * and, when the server runs on this machine, until the server has read
 * them (its end's receive queue is empty): the next piece then comes in a
 * read of its own. La has `TCP_NODELAY` on, so each piece also leaves in a
 * segment of its own.
 */
export async function writeApart(
  peer: WirePeer,
  pieces: readonly Uint8Array[],
): Promise<void> {
  const local = peer.la.conn.localAddr;
  const remote = peer.la.conn.remoteAddr;
  const ours = socketName(local);
  const theirs = socketName(remote);
  for (const piece of pieces) {
    await peer.sendRaw(piece);
    let rows: SocketRow[] = [];
    await pollUntil(
      async () => {
        rows = (await tcpSockets([local.port])).filter((row) =>
          (row.local === ours && row.peer === theirs) ||
          (row.local === theirs && row.peer === ours)
        );
        const mine = rows.find((row) => row.local === ours);
        const server = rows.find((row) => row.local === theirs);
        return mine !== undefined && mine.sendQ === 0 &&
          (server === undefined || server.recvQ === 0);
      },
      () =>
        `a piece of ${piece.length} bytes was not taken apart:\n${
          rows.map((row) => row.text).join("\n")
        }`,
    );
  }
}

/** An address as `ss` prints it: `127.0.0.1:5000`, `[::1]:5000`. */
function socketName(address: Deno.NetAddr): string {
  const host = address.hostname.includes(":")
    ? `[${address.hostname}]`
    : address.hostname;
  return `${host}:${address.port}`;
}
