/**
 * A terminal client's links over TCP: La, which the client opens for its
 * commands, and Lb, which the server connects back to the client's address
 * for chat.
 *
 * @module
 */

import type { TimeoutQueue } from "../async/timeout_queue.ts";
import { describeError } from "../errors.ts";
import { encodeLine, LineConnection } from "../net/line_connection.ts";
import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_FAILED,
  BUILD_SUCCESSFUL,
  BYE,
  DELIVERY_FAILED,
  DELIVERY_SUCCESSFUL,
  UNRECOGNIZED,
} from "../protocol.ts";
import type {
  ChatLink,
  ChatLinkListener,
  CommandLink,
  OpenChatResult,
} from "./links.ts";
import type { Session } from "./session.ts";

// Every idle connection pins its read buffer in a pending read, so buffers
// are small: commands are short, and longer lines just take more reads.
const LA_READ_BUFFER_BYTES = 512;
// Lb brings back only receipts.
const LB_READ_BUFFER_BYTES = 256;

// Replies that never change, encoded once.
const ENCODED = new Map<string, Uint8Array>(
  [
    AUTH_SUCCESSFUL,
    AUTH_FAILED,
    BUILD_SUCCESSFUL,
    BUILD_FAILED,
    DELIVERY_SUCCESSFUL,
    DELIVERY_FAILED,
    BYE,
    UNRECOGNIZED,
  ].map((line) => [line, encodeLine(line)]),
);

/** What the TCP links of a server share. */
export interface TcpLinkOptions {
  /** Longest accepted line in bytes. */
  maxLineBytes: number;
  /** How long connecting Lb may take. */
  connects: TimeoutQueue;
  /** The server's running tasks: each Lb reader is added while it runs. */
  tasks: Set<Promise<void>>;
}

/** A terminal client's La, and the way to its Lb. */
export class TcpClientLink implements CommandLink {
  /** The client's IP address. */
  readonly address: string;
  /** The client's address and port. */
  readonly peer: string;
  readonly #la: LineConnection;
  readonly #options: TcpLinkOptions;

  /** Wraps a connection the server has just accepted. */
  constructor(conn: Deno.TcpConn, options: TcpLinkOptions) {
    this.#la = new LineConnection(conn, {
      maxLineBytes: options.maxLineBytes,
      bufferSize: LA_READ_BUFFER_BYTES,
    });
    this.#options = options;
    const { hostname, port } = this.#la.remoteAddr;
    this.address = hostname;
    this.peer = `${hostname}:${port}`;
  }

  /**
   * Reads La for as long as it is open, handing each line to `session`,
   * then ends the session. Never rejects.
   */
  serve(session: Session): Promise<void> {
    // A callback per line rather than an async loop: an idle connection
    // then holds one suspended read and little else.
    return this.#la.forEachLine((line) => session.receive(line)).then(
      () => session.end("disconnected"),
      (error) =>
        session.end(
          this.#la.closed ? "disconnected" : describeError(error),
        ),
    );
  }

  /** Writes a reply on La. */
  send(line: string): Promise<void> {
    return this.#la.write(ENCODED.get(line) ?? encodeLine(line));
  }

  /** Closes La. */
  close(): void {
    this.#la.close();
  }

  /** Connects Lb back to the address La came from, at `port`. */
  async openChat(
    port: number,
    listener: ChatLinkListener,
    signal: AbortSignal,
  ): Promise<OpenChatResult> {
    const hostname = this.address;
    const target = `${hostname}:${port}`;
    const attempt = new AbortController();
    const abort = () => attempt.abort();
    signal.addEventListener("abort", abort, { once: true });
    let timedOut = false;
    const timeout = this.#options.connects.add(() => {
      timedOut = true;
      attempt.abort();
    });
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname, port, signal: attempt.signal });
    } catch (error) {
      const why = timedOut
        ? `no connection within ${this.#options.connects.delayMs} ms`
        : describeError(error);
      return { error: why, target };
    } finally {
      timeout.cancel();
      signal.removeEventListener("abort", abort);
    }
    const lb = new LineConnection(conn, {
      maxLineBytes: this.#options.maxLineBytes,
      bufferSize: LB_READ_BUFFER_BYTES,
    });
    this.#watchLb(lb, listener);
    return { link: new TcpChatLink(lb), target };
  }

  /** Reads Lb: replies go to the exchange in flight; its end ends the session. */
  #watchLb(lb: LineConnection, listener: ChatLinkListener): void {
    const tasks = this.#options.tasks;
    const watching: Promise<void> = lb.forEachLine((line) =>
      listener.takeReply(line)
    ).then(
      () => {
        tasks.delete(watching);
        listener.linkEnded("Lb closed");
      },
      (error) => {
        tasks.delete(watching);
        listener.linkEnded(
          lb.closed ? "Lb closed" : `Lb ${describeError(error)}`,
        );
      },
    );
    tasks.add(watching);
  }
}

/** Lb: chat lines out, receipts back (read by the La side's watcher). */
class TcpChatLink implements ChatLink {
  readonly #lb: LineConnection;

  constructor(lb: LineConnection) {
    this.#lb = lb;
  }

  get closed(): boolean {
    return this.#lb.closed;
  }

  send(_text: string, bytes: Uint8Array): Promise<void> {
    return this.#lb.write(bytes);
  }

  close(): void {
    this.#lb.close();
  }
}
