/**
 * Sockets as the kernel sees them, read with `ss` (iproute2; `.ci/run`
 * installs it when missing): their states, queues and timers; and a
 * listener whose accept queue is full, so that a connect to it hangs.
 *
 * @module
 */

import assert from "node:assert/strict";
import { delay } from "../../lib/async/delay.ts";

// ---------------------------------------------------------------------------
// A listener that never lets a connection through.

/** A listener whose accept queue is full. */
export interface StalledListener {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /**
   * Closes the listener and the connections filling its queue; a connect
   * still waiting then gets a reset. Idempotent.
   */
  close(): void;
}

/**
 * A listener on 127.0.0.1 whose accept queue has been filled: the kernel
 * drops further SYNs, so a connect to it hangs until the connector gives up.
 */
export async function stalledListener(): Promise<StalledListener> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const queued: Deno.Conn[] = [];
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    for (const conn of queued) conn.close();
    listener.close();
  };
  try {
    for (;;) {
      const attempt = new AbortController();
      const connecting = Deno.connect({
        hostname: "127.0.0.1",
        port,
        signal: attempt.signal,
      });
      const pause = new AbortController();
      const outcome = await Promise.race([
        connecting,
        delay(100, { signal: pause.signal }).then(() => "slow" as const),
      ]);
      pause.abort();
      if (outcome !== "slow") {
        queued.push(outcome);
      } else if (await synUnanswered(port)) {
        // The kernel dropped the SYN: the queue is full.
        attempt.abort();
        (await connecting.catch(() => undefined))?.close();
        break;
      } else {
        // Connected all along; this process was too busy to see it at once.
        queued.push(await connecting);
      }
      assert.ok(queued.length < 20_000, "the accept queue never filled");
    }
  } catch (error) {
    close();
    throw error;
  }
  return { port, close };
}

/** Whether a connect to `port` on loopback waits with its SYN unanswered. */
async function synUnanswered(port: number): Promise<boolean> {
  const rows = await ss(["state", "syn-sent", `( dport = :${port} )`]);
  return rows.trim() !== "";
}

// ---------------------------------------------------------------------------
// Sockets as the kernel sees them.

/** One TCP socket listed by `ss`. */
export interface SocketRow {
  /** `address:port` of this end. */
  local: string;
  /** `address:port` of the other end. */
  peer: string;
  /** Whether the keepalive timer runs (`timer:(keepalive,…)`). */
  keepalive: boolean;
  /** Bytes received that the program has not read yet. */
  recvQ: number;
  /** Bytes sent that the other end has not acknowledged yet. */
  sendQ: number;
  /** The line `ss` printed. */
  text: string;
}

/** `ss -tnH` with `args` (iproute2); fails clearly if it is not installed. */
async function ss(args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("ss", {
      args: ["-tnH", ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      assert.fail(
        "`ss` is not installed: the tests read socket states with it " +
          "(iproute2; .ci/run installs it when missing)",
      );
    }
    throw error;
  }
  const decoder = new TextDecoder();
  assert.ok(output.success, `ss failed: ${decoder.decode(output.stderr)}`);
  return decoder.decode(output.stdout);
}

/**
 * The TCP sockets with one of `ports` at either end, from `ss -tno`
 * (iproute2). Fails with a clear message if `ss` is not installed.
 */
export async function tcpSockets(ports: number[]): Promise<SocketRow[]> {
  const filter = ports.map((port) => `sport = :${port} or dport = :${port}`)
    .join(" or ");
  return (await ss(["-o", `( ${filter} )`])).split("\n")
    .filter((line) => line.trim() !== "")
    .map((text) => {
      const fields = text.trim().split(/\s+/);
      // State, Recv-Q, Send-Q, local, peer, then timer and the like.
      return {
        local: fields[3],
        peer: fields[4],
        keepalive: /timer:\(keepalive,/.test(text),
        recvQ: Number(fields[1]),
        sendQ: Number(fields[2]),
        text,
      };
    });
}
