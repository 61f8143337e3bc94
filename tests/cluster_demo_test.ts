/**
 * `deno task demo-cluster`: the Appendix with jacky, bob and michael each on
 * a different node of a cluster gives the same trace as on one server; with
 * no `nats-server` to start, one line says how to install it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertAppendixTrace } from "./support/appendix_trace.ts";
import { assertOneLine, REPO_ROOT, splitLines } from "./support/processes.ts";

const SCRIPT = join(REPO_ROOT, "tools", "cluster_demo.ts");
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-run",
];

async function runClusterDemo(env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMISSIONS, SCRIPT, "--speed=50"],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    signal: null,
    stdout: splitLines(decoder.decode(output.stdout)),
    stderr: decoder.decode(output.stderr),
    stderrLines: splitLines(decoder.decode(output.stderr)),
  };
}

Deno.test("demo-cluster: each user's lines are the Appendix's, with each user on its own node", async () => {
  const result = await runClusterDemo();
  assert.equal(result.code, 0, result.stderr);
  assertAppendixTrace(result.stdout);
  const nodes = result.stdout.filter((line) => /^Node n\d /.test(line));
  assert.equal(nodes.length, 3, result.stdout.join("\n"));
  assert.equal(new Set(nodes.map((line) => line.split(" ")[4])).size, 3);
});

Deno.test("demo-cluster: without nats-server, one line says how to install it", async () => {
  const result = await runClusterDemo({ PATH: "/nonexistent" });
  assert.equal(result.code, 1);
  assert.match(
    assertOneLine(result, "demo-cluster"),
    /^error: nats-server is not installed: .*apt-get install nats-server/,
  );
});
