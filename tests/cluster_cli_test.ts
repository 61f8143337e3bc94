/**
 * `server.ts --cluster` from the command line: NATS that cannot be reached is
 * one error line and exit 1 within the connect timeout; wrong cluster
 * arguments are usage errors; the node's name is in every log line; and a
 * server started without `--cluster` loads no third-party code at all.
 */

import assert from "node:assert/strict";
import { DEFAULT_NATS_TIMEOUT_MS } from "../lib/cluster/mod.ts";
import { stalledListener, startServerProcess } from "./support/faults.ts";
import { NatsServer } from "./support/nats.ts";
import {
  assertOneLine,
  freePort,
  ProcessScope,
  SERVER_SCRIPT,
  USERS_FILE,
} from "./support/processes.ts";

Deno.test("--cluster: NATS refusing connections is one error line naming it, exit 1", async () => {
  await using scope = new ProcessScope();
  const url = `nats://127.0.0.1:${freePort()}`;
  const server = scope.spawnServer([`--cluster=${url}`, "0", USERS_FILE]);
  const result = await server.waitForExit(DEFAULT_NATS_TIMEOUT_MS + 2_000);
  assert.equal(result.code, 1, server.report());
  assert.match(
    assertOneLine(result, "server"),
    new RegExp(`^error: cannot reach NATS at ${url}: `),
  );
});

Deno.test("--cluster: NATS that never answers is one error line within the connect timeout, exit 1", async () => {
  const stalled = await stalledListener();
  try {
    await using scope = new ProcessScope();
    const url = `nats://127.0.0.1:${stalled.port}`;
    const started = performance.now();
    const server = scope.spawnServer([`--cluster=${url}`, "0", USERS_FILE]);
    const result = await server.waitForExit(DEFAULT_NATS_TIMEOUT_MS + 5_000);
    const took = performance.now() - started;
    assert.equal(result.code, 1, server.report());
    assert.match(
      assertOneLine(result, "server"),
      /^error: cannot reach NATS at /,
    );
    assert.ok(
      took < DEFAULT_NATS_TIMEOUT_MS + 3_000,
      `exited after ${Math.round(took)} ms`,
    );
  } finally {
    stalled.close();
  }
});

Deno.test("--cluster: wrong cluster arguments are usage errors (exit 2)", async () => {
  await using scope = new ProcessScope();
  for (
    const args of [
      ["--cluster=127.0.0.1:4222"],
      ["--cluster=nats://127.0.0.1:4222,"],
      ["--node-name=a"],
      ["--cluster-replicas=3"],
      ["--cluster=nats://127.0.0.1:4222", "--node-name=a.b"],
      ["--cluster=nats://127.0.0.1:4222", "--cluster-replicas=0"],
    ]
  ) {
    const server = scope.spawnServer([...args, "0", USERS_FILE]);
    const result = await server.waitForExit();
    assert.equal(result.code, 2, `${args.join(" ")}: ${server.report()}`);
    assert.match(result.stderr, /^error: .+\nusage: /);
  }
});

Deno.test("--cluster: the node's name, given or unique by default, is in every log line", async () => {
  await using nats = await NatsServer.start();
  await using scope = new ProcessScope();
  const named = await startServerProcess(
    scope,
    [`--cluster=${nats.url}`, "--node-name=east-1"],
    USERS_FILE,
  );
  const unnamed = await startServerProcess(
    scope,
    [`--cluster=${nats.url}`],
    USERS_FILE,
  );
  for (
    const [server, name] of [[named, "east-1"], [
      unnamed,
      "node-\\d+-[0-9a-f]{6}",
    ]] as const
  ) {
    const lines = server.stderr.trim().split("\n");
    assert.ok(lines.length >= 2, server.report());
    for (const line of lines) {
      assert.match(line, new RegExp(` \\[${name}\\] `), server.report());
    }
  }
});

Deno.test("a server without --cluster loads no third-party code", async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", SERVER_SCRIPT],
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
    }[];
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const loaded = new Set<string>();
  const pending = [...info.roots];
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (loaded.has(specifier)) continue;
    loaded.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      // Type-only imports load nothing; dynamic ones load only when reached.
      if (dependency.code && !dependency.isDynamic) {
        pending.push(dependency.code.specifier);
      }
    }
  }
  const foreign = [...loaded].filter((s) =>
    !s.startsWith("file:") && !s.startsWith("node:")
  );
  assert.deepEqual(foreign, []);
  assert.ok(loaded.size > 10, `only ${loaded.size} modules found`);
});
