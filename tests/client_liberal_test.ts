/**
 * The client against servers that are not ours: it recognises replies by
 * their three-digit code, asks again after any answer to `/login` but `101`,
 * shows a line it cannot place as it came, and still sends exactly the
 * handout's lines. Each test plays a scripted server written here.
 */

import assert from "node:assert/strict";
import { runClient } from "../lib/client/mod.ts";
import { LineReader } from "../lib/net/line_reader.ts";

const encoder = new TextEncoder();
const USER_PROMPT = "Please input your user name:";
const PASSWORD_PROMPT = "Please input your password:";

/** A server played by the test: one client's La, and Lb once connected. */
class ScriptedServer {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  #la: Deno.TcpConn | undefined;
  #laLines: LineReader | undefined;
  #lb: Deno.TcpConn | undefined;
  #lbLines: LineReader | undefined;

  get port(): number {
    return this.#listener.addr.port;
  }

  async accept(): Promise<void> {
    this.#la = await this.#listener.accept();
    this.#listener.close();
    this.#laLines = new LineReader(this.#la);
  }

  /** The next line the client sent on La, which must be `expected`. */
  expect(expected: string | RegExp): Promise<string> {
    return expectLine(this.#laLines!, expected);
  }

  /** Writes raw text on La. */
  async send(text: string): Promise<void> {
    await this.#la!.write(encoder.encode(text));
  }

  /** Answers `/port N` by connecting Lb to N, then sends `reply`. */
  async buildLb(reply: string): Promise<void> {
    const line = await this.expect(/^\/port \d+$/);
    this.#lb = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(line.split(" ")[1]),
    });
    this.#lbLines = new LineReader(this.#lb);
    await this.send(`${reply}\n`);
  }

  /** Writes raw bytes on Lb. */
  async sendLb(bytes: Uint8Array | string): Promise<void> {
    await this.#lb!.write(
      typeof bytes === "string" ? encoder.encode(bytes) : bytes,
    );
  }

  /** The next line the client sent on Lb, which must be `expected`. */
  expectLb(expected: string): Promise<string> {
    return expectLine(this.#lbLines!, expected);
  }

  close(): void {
    for (const conn of [this.#la, this.#lb]) {
      try {
        conn?.close();
      } catch {
        // Closed already.
      }
    }
  }
}

async function expectLine(
  reader: LineReader,
  expected: string | RegExp,
): Promise<string> {
  const line = await reader.readLine();
  assert.ok(typeof line === "string", `expected a line, got ${String(line)}`);
  if (typeof expected === "string") assert.equal(line, expected);
  else assert.match(line, expected);
  return line;
}

/**
 * Runs the client against a scripted server: `input` is typed, every line it
 * shows is collected, and `script` plays the server. Input ends (and the
 * client sends `/exit` by itself) once the script calls `finish`.
 */
async function withClient(
  input: string[],
  script: (server: ScriptedServer, finish: () => void) => Promise<void>,
): Promise<{ code: number; shown: string[] }> {
  const server = new ScriptedServer();
  const finished = Promise.withResolvers<void>();
  async function* typing() {
    yield* input;
    await finished.promise;
  }
  const shown: string[] = [];
  const client = runClient({ hostname: "127.0.0.1", port: server.port }, {
    input: typing(),
    output: (line) => shown.push(line),
    error: (line) => shown.push(line),
  });
  try {
    await server.accept();
    await script(server, () => finished.resolve());
  } finally {
    finished.resolve();
    const code = await client;
    server.close();
    shown.push(`(exit ${code})`);
  }
  return { code: Number(shown.at(-1)!.slice(6, -1)), shown };
}

for (
  const refusal of [
    "401 Authentication failed",
    "102 Authentication Failed",
    "103 You are already logged in",
    "Wrong password!",
  ]
) {
  Deno.test(`client: "${refusal}" after /login is shown and the prompts come again`, async () => {
    const { code, shown } = await withClient(
      ["jacky", "wrong", "jacky", "12345"],
      async (server, finish) => {
        await server.expect("/login jacky wrong");
        await server.send(`${refusal}\n`);
        // A line without a status code is no reply: the client still waits.
        if (statusless(refusal)) {
          await server.send("102 Authentication failed\n");
        }
        await server.expect("/login jacky 12345");
        await server.send("101 Authentication successful\n");
        await server.buildLb("201 Build connection successful");
        finish();
        await server.expect("/exit");
        await server.send("310 Bye bye\n");
      },
    );
    assert.equal(code, 0, shown.join("\n"));
    assert.deepEqual(shown.slice(0, 3), [
      USER_PROMPT,
      PASSWORD_PROMPT,
      refusal,
    ]);
    assert.equal(shown.filter((line) => line === USER_PROMPT).length, 2);
    assert.equal(shown.filter((line) => line === PASSWORD_PROMPT).length, 2);
  });
}

function statusless(line: string): boolean {
  return !/^[0-9]{3}( |$)/.test(line);
}

Deno.test("client: unfamiliar wordings of 101, 201 and 310 count as those codes", async () => {
  const { code, shown } = await withClient(
    ["jacky", "12345", "/list"],
    async (server, finish) => {
      await server.expect("/login jacky 12345");
      await server.send("101 Welcome, jacky!\n");
      await server.buildLb("201 Lb is up");
      await server.expect("/list");
      await server.send("301 jacky\n");
      finish();
      await server.expect("/exit");
      await server.send("310 See you\n");
    },
  );
  assert.equal(code, 0, shown.join("\n"));
  assert.deepEqual(shown, [
    USER_PROMPT,
    PASSWORD_PROMPT,
    "101 Welcome, jacky!",
    "201 Lb is up",
    "301 jacky",
    "310 See you",
    "(exit 0)",
  ]);
});

Deno.test("client: lines it cannot place are shown as they came, and it goes on", async () => {
  const invalid = new Uint8Array([
    ...encoder.encode("/from bob caf"),
    0xe9,
    0x0a,
  ]);
  const { code, shown } = await withClient(
    ["jacky", "12345", "/list"],
    async (server, finish) => {
      // A greeting before anything was asked is no reply to /login.
      await server.send("Welcome to the chat server\n");
      await server.expect("/login jacky 12345");
      await server.send("101 Authentication successful\n");
      await server.buildLb("201 Build connection successful");
      // On Lb: a line that is no chat line is shown and not acknowledged,
      // and chat with an invalid byte is shown and acknowledged.
      await server.sendLb("hello there\n");
      await server.sendLb(invalid);
      await server.expectLb("302 Message receipt successful");
      await server.expect("/list");
      await server.send("999 Something new\n");
      finish();
      await server.expect("/exit");
      await server.send("310 Bye bye\n");
    },
  );
  assert.equal(code, 0, shown.join("\n"));
  for (
    const line of [
      "Welcome to the chat server",
      "hello there",
      "/from bob caf\uFFFD",
      "999 Something new",
    ]
  ) {
    assert.ok(shown.includes(line), `${line} not shown:\n${shown.join("\n")}`);
  }
});

Deno.test("client: a reply nobody asked for is shown, not taken for the next answer", async () => {
  const { code, shown } = await withClient(
    ["jacky", "12345", "/list"],
    async (server, finish) => {
      await server.expect("/login jacky 12345");
      await server.send("101 Authentication successful\n");
      await server.buildLb("201 Build connection successful");
      await server.expect("/list");
      // Two answers to one command: the second is shown as it came.
      await server.send("301 jacky\n401 Unrecognized message\n");
      finish();
      await server.expect("/exit");
      await server.send("310 Bye bye\n");
    },
  );
  assert.equal(code, 0, shown.join("\n"));
  assert.ok(shown.includes("401 Unrecognized message"), shown.join("\n"));
  assert.equal(shown.at(-2), "310 Bye bye");
});

Deno.test("client: any answer to /port but 201 ends the session (exit 1)", async () => {
  const { code, shown } = await withClient(
    ["jacky", "12345"],
    async (server) => {
      await server.expect("/login jacky 12345");
      await server.send("101 Authentication successful\n");
      await server.expect(/^\/port \d+$/);
      await server.send("401 Unrecognized message\n");
    },
  );
  assert.equal(code, 1, shown.join("\n"));
  assert.ok(shown.includes("401 Unrecognized message"), shown.join("\n"));
});
