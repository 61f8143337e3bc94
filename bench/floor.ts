/**
 * The floor: what the bare bytes of the benchmark's message pattern cost on
 * this runtime. A relay that moves the same lines over the same sockets as
 * the server (link La in, link Lb connected back to the client) but does no
 * more than it must to route them:
 *
 * - No validation and no decoding of content: lines are byte ranges of a
 *   reused 512-byte read buffer per link, compared by prefix only. No password check, no
 *   duplicate-login check, no UTF-8 check, no line-length limit, no `\r`
 *   handling, no timers, no locks.
 * - `/login <name> …` answers `101` and names the connection (later logins of
 *   the same name replace it). `/port N` connects to N at La's peer address
 *   and answers `201` (or `202`).
 * - `/to <name> <content>` writes `/from <sender> <content>` on the target's
 *   Lb and answers `303` when the next line arrives on that Lb, whatever it
 *   says (`304` if the target is unknown or its Lb closes first). Lb lines are
 *   matched to waiting senders first in, first out: two senders to one
 *   receiver are not serialized, their lines are simply written in turn.
 * - `/toall <content>` writes `/broadcastfrom <sender> <content>` (one shared
 *   buffer) to every other connection with an Lb, all at once, and answers
 *   `303` after as many Lb lines have come back.
 * - `/list` answers `301` with the requester first; `/exit` answers `310` and
 *   closes both links; anything else gets `401`.
 * - As in the protocol, each La carries one command at a time: the next line
 *   on an La is looked at once the previous one is answered.
 *
 * ```sh
 * deno run --allow-net bench/floor.ts <port> [users file, ignored]
 * ```
 *
 * Port 0 picks a free port; once listening, one line with the real port goes
 * to standard output. SIGINT or SIGTERM exits 0.
 *
 * @module
 */

const LF = 0x0a;
const SPACE = 0x20;
const READ_BUFFER_BYTES = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const AUTH_SUCCESSFUL = encoder.encode("101 Authentication successful\n");
const BUILD_SUCCESSFUL = encoder.encode("201 Build connection successful\n");
const BUILD_FAILED = encoder.encode("202 Build connection failed\n");
const DELIVERY_SUCCESSFUL = encoder.encode("303 Message delivery successful\n");
const DELIVERY_FAILED = encoder.encode("304 Message delivery failed\n");
const BYE = encoder.encode("310 Bye bye\n");
const UNRECOGNIZED = encoder.encode("401 Unrecognized message\n");

const TO = encoder.encode("/to ");
const TOALL = encoder.encode("/toall ");
const LOGIN = encoder.encode("/login ");
const PORT = encoder.encode("/port ");
const LIST = encoder.encode("/list");
const EXIT = encoder.encode("/exit");
const FROM = encoder.encode("/from ");
const BROADCASTFROM = encoder.encode("/broadcastfrom ");

/** Writes in call order without making callers wait: a socket's queue. */
class Writer {
  readonly #conn: Deno.TcpConn;
  #queue: Uint8Array[] = [];
  #busy = false;
  #closeWhenDrained = false;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  write(bytes: Uint8Array): void {
    if (this.#busy) {
      this.#queue.push(bytes);
      return;
    }
    this.#busy = true;
    this.#drain(bytes);
  }

  async #drain(first: Uint8Array): Promise<void> {
    let next: Uint8Array | undefined = first;
    try {
      while (next !== undefined) {
        let written = 0;
        while (written < next.length) {
          written += await this.#conn.write(next.subarray(written));
        }
        next = this.#queue.shift();
      }
    } catch {
      // The peer is gone; its reader notices and cleans up.
      this.#queue = [];
    }
    this.#busy = false;
    if (this.#closeWhenDrained) closeQuietly(this.#conn);
  }

  /** Closes the socket once everything written so far has gone out. */
  closeWhenDrained(): void {
    this.#closeWhenDrained = true;
    if (!this.#busy) closeQuietly(this.#conn);
  }
}

/** One client connection. */
class Peer {
  readonly la: Deno.TcpConn;
  readonly laOut: Writer;
  name: string | undefined;
  nameBytes: Uint8Array = new Uint8Array(0);
  lb: Deno.TcpConn | undefined;
  lbOut: Writer | undefined;
  /** Senders waiting for this peer's next Lb line, first in, first out. */
  waiters: ((delivered: boolean) => void)[] = [];
  closed = false;

  constructor(la: Deno.TcpConn) {
    this.la = la;
    this.laOut = new Writer(la);
  }
}

const online = new Map<string, Peer>();

function startsWith(line: Uint8Array, prefix: Uint8Array): boolean {
  if (line.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (line[i] !== prefix[i]) return false;
  }
  return true;
}

function equals(line: Uint8Array, word: Uint8Array): boolean {
  return line.length === word.length && startsWith(line, word);
}

/** `prefix name content\n`, in one new buffer. */
function chatLine(
  prefix: Uint8Array,
  name: Uint8Array,
  content: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(prefix.length + name.length + content.length + 2);
  out.set(prefix, 0);
  out.set(name, prefix.length);
  out[prefix.length + name.length] = SPACE;
  out.set(content, prefix.length + name.length + 1);
  out[out.length - 1] = LF;
  return out;
}

/** Answers one La line; a promise when the answer waits on Lb lines. */
function handle(peer: Peer, line: Uint8Array): Promise<void> | undefined {
  if (startsWith(line, TO)) {
    const space = line.indexOf(SPACE, TO.length);
    const target = space === -1
      ? undefined
      : online.get(decoder.decode(line.subarray(TO.length, space)));
    const lbOut = target?.lbOut;
    if (target === undefined || lbOut === undefined) {
      peer.laOut.write(space === -1 ? UNRECOGNIZED : DELIVERY_FAILED);
      return undefined;
    }
    const out = chatLine(FROM, peer.nameBytes, line.subarray(space + 1));
    return new Promise((resolve) => {
      target.waiters.push((delivered) => {
        peer.laOut.write(delivered ? DELIVERY_SUCCESSFUL : DELIVERY_FAILED);
        resolve();
      });
      lbOut.write(out);
    });
  }
  if (startsWith(line, TOALL)) {
    const out = chatLine(
      BROADCASTFROM,
      peer.nameBytes,
      line.subarray(TOALL.length),
    );
    return new Promise((resolve) => {
      let pending = 1;
      let allDelivered = true;
      const settle = (delivered: boolean): void => {
        allDelivered &&= delivered;
        if (--pending > 0) return;
        peer.laOut.write(allDelivered ? DELIVERY_SUCCESSFUL : DELIVERY_FAILED);
        resolve();
      };
      for (const other of online.values()) {
        if (other === peer || other.lbOut === undefined) continue;
        pending++;
        other.waiters.push(settle);
        other.lbOut.write(out);
      }
      settle(true);
    });
  }
  if (startsWith(line, LOGIN)) {
    const space = line.indexOf(SPACE, LOGIN.length);
    peer.nameBytes = line.slice(LOGIN.length, space === -1 ? undefined : space);
    peer.name = decoder.decode(peer.nameBytes);
    online.set(peer.name, peer);
    peer.laOut.write(AUTH_SUCCESSFUL);
    return undefined;
  }
  if (startsWith(line, PORT)) {
    return connectLb(peer, Number(decoder.decode(line.subarray(PORT.length))));
  }
  if (equals(line, LIST)) {
    const names = [peer.name ?? ""];
    for (const name of online.keys()) if (name !== peer.name) names.push(name);
    peer.laOut.write(encoder.encode(`301 ${names.join(" ")}\n`));
    return undefined;
  }
  if (equals(line, EXIT)) {
    peer.laOut.write(BYE);
    leave(peer, peer.laOut);
    return undefined;
  }
  peer.laOut.write(UNRECOGNIZED);
  return undefined;
}

async function connectLb(peer: Peer, port: number): Promise<void> {
  let lb: Deno.TcpConn;
  try {
    const { hostname } = peer.la.remoteAddr as Deno.NetAddr;
    lb = await Deno.connect({ hostname, port });
    lb.setNoDelay(true);
  } catch {
    peer.laOut.write(BUILD_FAILED);
    return;
  }
  if (peer.closed) {
    lb.close();
    return;
  }
  peer.lb = lb;
  peer.lbOut = new Writer(lb);
  peer.laOut.write(BUILD_SUCCESSFUL);
  readLb(peer, lb);
}

/** Each line on Lb settles the longest-waiting sender. */
async function readLb(peer: Peer, lb: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  try {
    for (;;) {
      const count = await lb.read(buffer);
      if (count === null) break;
      const chunk = buffer.subarray(0, count);
      for (
        let at = chunk.indexOf(LF);
        at !== -1;
        at = chunk.indexOf(LF, at + 1)
      ) {
        peer.waiters.shift()?.(true);
      }
    }
  } catch {
    // A reset: the same as an end.
  }
  leave(peer);
}

/** Reads La; a line is looked at once the one before it is answered. */
async function serveLa(conn: Deno.TcpConn): Promise<void> {
  const peer = new Peer(conn);
  const buffer = new Uint8Array(READ_BUFFER_BYTES);
  let carry: Uint8Array | undefined;
  try {
    conn.setNoDelay(true);
    for (;;) {
      const count = await conn.read(buffer);
      if (count === null) break;
      let chunk = buffer.subarray(0, count);
      if (carry !== undefined) {
        const joined = new Uint8Array(carry.length + count);
        joined.set(carry);
        joined.set(chunk, carry.length);
        chunk = joined;
        carry = undefined;
      }
      let start = 0;
      for (;;) {
        const end = chunk.indexOf(LF, start);
        if (end === -1) break;
        const waiting = handle(peer, chunk.subarray(start, end));
        if (waiting !== undefined) await waiting;
        start = end + 1;
      }
      if (start < chunk.length) carry = chunk.slice(start);
    }
  } catch {
    // A reset: the same as an end.
  }
  leave(peer);
}

function closeQuietly(conn: Deno.TcpConn | undefined): void {
  try {
    conn?.close();
  } catch {
    // Already closed.
  }
}

/** Off the list, both links closed (La once `laOut`, if given, drained). */
function leave(peer: Peer, laOut?: Writer): void {
  if (peer.closed) return;
  peer.closed = true;
  if (peer.name !== undefined && online.get(peer.name) === peer) {
    online.delete(peer.name);
  }
  closeQuietly(peer.lb);
  if (laOut === undefined) closeQuietly(peer.la);
  else laOut.closeWhenDrained();
  const waiters = peer.waiters;
  peer.waiters = [];
  for (const settle of waiters) settle(false);
}

async function main(args: string[]): Promise<void> {
  const port = Number(args[0]);
  if (args.length < 1 || args.length > 2 || !Number.isInteger(port)) {
    console.error("usage: floor.ts <port> [users file, ignored]");
    Deno.exit(2);
  }
  const listener = Deno.listen({ hostname: "0.0.0.0", port });
  console.log(`listening on 0.0.0.0:${listener.addr.port} (floor relay)`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => Deno.exit(0));
  }
  for (;;) {
    try {
      serveLa(await listener.accept());
    } catch {
      // Out of file descriptors, say: try again shortly.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

if (import.meta.main) await main(Deno.args);
