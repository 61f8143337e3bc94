/**
 * The client's Lb listener takes only the server's connection: a stranger
 * who connects first is turned away, and the server's connection still
 * works. Driven against a scripted server written in the test.
 */

import assert from "node:assert/strict";
import { connect as nodeConnect } from "node:net";
import { runClient } from "../lib/client/mod.ts";
import { LineReader } from "../lib/net/line_reader.ts";

const encoder = new TextEncoder();

async function expectLine(reader: LineReader, expected: RegExp | string) {
  const line = await reader.readLine();
  assert.ok(typeof line === "string", `expected a line, got ${String(line)}`);
  if (typeof expected === "string") assert.equal(line, expected);
  else assert.match(line, expected);
  return line;
}

/**
 * Connects from 127.0.0.2 and resolves once the other end has closed; fails
 * if it has not within two seconds.
 */
function strangerTurnedAway(port: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<void>((resolve, reject) => {
    timer = setTimeout(() => {
      socket.destroy();
      reject(new Error("the stranger's connection was kept"));
    }, 2000);
    const socket = nodeConnect({
      host: "127.0.0.1",
      port,
      localAddress: "127.0.0.2",
    });
    socket.on("error", () => {
      socket.destroy();
      resolve();
    });
    socket.on("end", () => {
      socket.destroy();
      resolve();
    });
    socket.on("data", () => reject(new Error("the stranger was spoken to")));
  }).finally(() => clearTimeout(timer));
}

Deno.test("client: a stranger connecting to the Lb port first is turned away", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const input = ["jacky", "12345"];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  async function* typing() {
    yield* input;
    await finished;
  }
  const shown: string[] = [];
  const client = runClient({ hostname: "127.0.0.1", port: server.addr.port }, {
    input: typing(),
    output: (line) => shown.push(line),
    error: (line) => shown.push(line),
  });

  const la = await server.accept();
  server.close();
  const laLines = new LineReader(la);
  await expectLine(laLines, "/login jacky 12345");
  await la.write(encoder.encode("101 Authentication successful\n"));
  const portLine = await expectLine(laLines, /^\/port \d+$/);
  const port = Number(portLine.split(" ")[1]);

  await strangerTurnedAway(port);

  const lb = await Deno.connect({ hostname: "127.0.0.1", port });
  await la.write(encoder.encode("201 Build connection successful\n"));
  await lb.write(encoder.encode("/from bob hi\n"));
  await expectLine(new LineReader(lb), "302 Message receipt successful");

  finish();
  await expectLine(laLines, "/exit");
  await la.write(encoder.encode("310 Bye bye\n"));
  la.close();
  lb.close();
  assert.equal(await client, 0, shown.join("\n"));
  assert.ok(shown.includes("/from bob hi"), shown.join("\n"));
});
