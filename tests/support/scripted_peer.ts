/**
 * A protocol peer run as a process of its own, so that a test can kill it
 * with SIGKILL at an exact step of the dialog. It speaks only when told and
 * never answers a chat line by itself; it is driven through
 * {@linkcode ScriptedPeer} in `faults.ts`.
 *
 * ```sh
 * deno run --allow-net tests/support/scripted_peer.ts <host> <port>
 * ```
 *
 * Commands, one per line on standard input:
 * - `a <line>` / `b <line>`: send `<line>\n` on La / Lb;
 * - `listen`: open the Lb listener on La's local address (the first
 *   connection to it becomes Lb).
 *
 * Reports, one per line on standard output:
 * `connected <local port>`, `listening <port>`, `accepted`,
 * `sent <a|b> <line>` once a line is written, `< a <line>` / `< b <line>` for
 * each line received, `end a` / `end b` when a link ends, `error <text>`.
 * End of standard input closes everything and exits 0.
 *
 * @module
 */

const encoder = new TextEncoder();

function say(text: string): void {
  const bytes = encoder.encode(`${text}\n`);
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

async function writeAll(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += await conn.write(bytes.subarray(written));
  }
}

/** Reports every line arriving on `conn`, then its end. */
async function pump(link: "a" | "b", conn: Deno.Conn): Promise<void> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  let pending = "";
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      pending += decoder.decode(buffer.subarray(0, n), { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        say(`< ${link} ${pending.slice(0, newline)}`);
        pending = pending.slice(newline + 1);
      }
    }
  } catch {
    // Reset or closed: the link ended either way.
  }
  say(`end ${link}`);
}

async function* commands(): AsyncGenerator<string> {
  let pending = "";
  for await (
    const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
  ) {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
    }
  }
}

async function main(): Promise<void> {
  const [hostname, portText] = Deno.args;
  const la = await Deno.connect({ hostname, port: Number(portText) });
  la.setNoDelay(true);
  say(`connected ${la.localAddr.port}`);
  const tasks: Promise<void>[] = [pump("a", la)];
  let lb: Deno.TcpConn | undefined;
  let listener: Deno.TcpListener | undefined;
  for await (const command of commands()) {
    try {
      if (command === "listen") {
        const opened = Deno.listen({
          hostname: la.localAddr.hostname,
          port: 0,
        });
        listener = opened;
        say(`listening ${opened.addr.port}`);
        tasks.push(
          opened.accept().then((conn) => {
            opened.close();
            lb = conn;
            conn.setNoDelay(true);
            say("accepted");
            return pump("b", conn);
          }, () => {}),
        );
      } else if (command.startsWith("a ")) {
        await writeAll(la, `${command.slice(2)}\n`);
        say(`sent ${command}`);
      } else if (command.startsWith("b ") && lb !== undefined) {
        await writeAll(lb, `${command.slice(2)}\n`);
        say(`sent ${command}`);
      } else {
        say(`error unknown command ${JSON.stringify(command)}`);
      }
    } catch (error) {
      say(`error ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const closable of [la, lb, listener]) {
    try {
      closable?.close();
    } catch {
      // Already closed.
    }
  }
  await Promise.all(tasks);
}

if (import.meta.main) {
  await main();
  Deno.exit(0);
}
