/**
 * `server.ts --web`, run as a real process: the second line on standard
 * output, the warning for a web client served in clear beyond loopback, the
 * option errors, and no HTTP port at all without `--web`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertNoStackTrace,
  assertOneLine,
  type ExitResult,
  makeScratchDir,
  ProcessScope,
  removeScratchDir,
  START_TIMEOUT_MS,
  USERS_FILE,
} from "./support/processes.ts";
import { type LogEvent, startServer } from "../lib/server/mod.ts";

const EXIT_MS = 10_000;
const WEB_LINE = /^web client on (https?):\/\/localhost:(\d{1,5})\/$/;

/** The TCP ports process `pid` listens on, from `ss`. */
async function listeningPorts(pid: number): Promise<number[]> {
  const { stdout, success } = await new Deno.Command("ss", {
    args: ["-ltnpH"],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, "ss failed");
  return new TextDecoder().decode(stdout).split("\n")
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => Number(line.trim().split(/\s+/)[3].split(":").at(-1)))
    .sort((a, b) => a - b);
}

Deno.test("server.ts --web=0: a second line names the page", async () => {
  await using scope = new ProcessScope();
  const server = scope.spawnServer(["--web=0", "0", USERS_FILE]);
  const first = await server.waitForLine(() => true, START_TIMEOUT_MS);
  const tcpPort = Number(first.match(/:(\d{1,5}) /)?.[1]);
  const second = await server.waitForLine(() => true);
  const [, scheme, port] = second.match(WEB_LINE) ?? [];
  assert.equal(scheme, "http", second);
  const webPort = Number(port);

  const page = await fetch(`http://127.0.0.1:${webPort}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>Chat<\/title>/);
  assert.deepEqual(
    await listeningPorts(server.pid),
    [tcpPort, webPort].sort((a, b) => a - b),
  );

  server.kill("SIGTERM");
  const result = await server.waitForExit(EXIT_MS);
  assert.equal(result.code, 0, server.report());
  // It listens on every interface and has no certificate: one warning.
  const warnings = result.stderrLines.filter((line) => /warning/i.test(line));
  assert.equal(warnings.length, 1, result.stderr);
  assert.match(warnings[0], /without TLS on 0\.0\.0\.0: passwords/);
  assert.match(warnings[0], /--tls-cert and --tls-key/);
});

Deno.test("server.ts without --web opens no HTTP port", async () => {
  await using scope = new ProcessScope();
  const server = await scope.startServer();
  assert.deepEqual(await listeningPorts(server.pid), [server.port]);
  server.kill("SIGTERM");
  const result = await server.waitForExit(EXIT_MS);
  assert.equal(result.stdout.length, 1, result.stdout.join("\n"));
  assert.doesNotMatch(result.stderr, /web client|warning/);
});

async function runServer(args: string[]): Promise<ExitResult> {
  await using scope = new ProcessScope();
  return await scope.spawnServer(args).waitForExit(EXIT_MS);
}

Deno.test("server.ts: --web and TLS option errors", async () => {
  const usage: [string[], RegExp][] = [
    [["--web=http", "0", USERS_FILE], /--web must be a number from 0 to 65535/],
    [["--web=65536", "0", USERS_FILE], /--web must be a number/],
    [
      ["--web=0", "--tls-cert=c.pem", "0", USERS_FILE],
      /--tls-cert and --tls-key go together/,
    ],
    [
      ["--tls-cert=c.pem", "--tls-key=k.pem", "0", USERS_FILE],
      /need --web/,
    ],
  ];
  for (const [args, message] of usage) {
    const result = await runServer(args);
    assertNoStackTrace(result.stderr, args.join(" "));
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderrLines[0], message);
    assert.match(result.stderr, /usage/);
  }

  const dir = await makeScratchDir("im_tls_");
  try {
    const notPem = join(dir, "not.pem");
    await Deno.writeTextFile(notPem, "hello\n");
    const missing = join(dir, "missing.pem");
    const failures: [string[], RegExp][] = [
      [
        [`--web=0`, `--tls-cert=${missing}`, `--tls-key=${missing}`],
        /^error: cannot read --tls-cert file .*missing\.pem: /,
      ],
      [
        [`--web=0`, `--tls-cert=${notPem}`, `--tls-key=${notPem}`],
        /^error: --tls-cert file .*not\.pem holds no PEM data$/,
      ],
    ];
    for (const [options, message] of failures) {
      const result = await runServer([...options, "0", USERS_FILE]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(assertOneLine(result, options.join(" ")), message);
    }
  } finally {
    await removeScratchDir(dir);
  }
});

Deno.test("server.ts: a web port in use is one error line", async () => {
  const taken = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  try {
    const result = await runServer([
      `--web=${taken.addr.port}`,
      "0",
      USERS_FILE,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(
      assertOneLine(result, "server"),
      `error: cannot serve the web client on port ${taken.addr.port}: it is already in use`,
    );
    assert.deepEqual(result.stdout, []);
  } finally {
    taken.close();
  }
});

Deno.test("web: the clear-text warning is for addresses beyond loopback", async () => {
  const users = new Map([["bob", "bob123"]]);
  for (
    const [hostname, warned] of [["127.0.0.1", false], [
      "0.0.0.0",
      true,
    ]] as const
  ) {
    const events: LogEvent[] = [];
    const server = startServer(users, {
      hostname,
      web: { port: 0 },
      log: (event) => events.push(event),
    });
    await server.close();
    const names = events.map((event) => event.event);
    assert.ok(names.includes("web-started"), hostname);
    assert.equal(names.includes("web-cleartext"), warned, hostname);
    assert.equal(
      names.filter((name) => name === "web-cleartext").length <= 1,
      true,
    );
  }
});
