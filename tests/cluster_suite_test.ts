/**
 * The protocol's own tests on a cluster: the Appendix from three points of
 * view, every decision, and the per-receiver lock, run again with each test
 * on three in-process nodes (`IM_TOPOLOGY=cluster`, see `support/target.ts`),
 * peers connecting to the nodes in turn so that every exchange crosses nodes.
 */

import assert from "node:assert/strict";
import { REPO_ROOT } from "./support/processes.ts";

const SUITE = [
  "tests/appendix_test.ts",
  "tests/protocol_test.ts",
  "tests/lock_test.ts",
];

Deno.test("the protocol suite passes on a 3-node cluster", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", ...SUITE],
    cwd: REPO_ROOT,
    env: { IM_TOPOLOGY: "cluster", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, text);
  const summary = text.match(/ok \| (\d+) passed \| 0 failed/);
  assert.ok(summary, text);
  assert.ok(Number(summary[1]) >= 50, `only ${summary[1]} tests ran`);
});
