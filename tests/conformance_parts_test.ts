/**
 * The conformance kit's parts, each on its own: the runner's bounds (a
 * check's time, a check that never ends, the whole run's limit, Ctrl-C, a
 * check that needs a new target), the exit code and the summary, the
 * dialog's display of lines, and stopping a program with whatever it
 * started.
 */

import assert from "node:assert/strict";
import { delay } from "../lib/async/delay.ts";
import {
  type Check,
  CheckFailure,
  type CheckResult,
  CheckSkipped,
  FreshTargetNeeded,
} from "../tools/conformance/check.ts";
import { Dialog, displayLine } from "../tools/conformance/dialog.ts";
import { TargetProcess } from "../tools/conformance/process.ts";
import {
  exitCodeOf,
  formatMarkdown,
  formatText,
  type Report,
} from "../tools/conformance/report.ts";
import { type CheckClock, runChecks } from "../tools/conformance/runner.ts";

/** What a check of these tests is given: its clock, and whether fresh. */
interface Context {
  clock: CheckClock;
  fresh: boolean;
}

function check(
  id: string,
  run: (context: Context) => Promise<string | void>,
  more: Partial<Check<Context>> = {},
): Check<Context> {
  return { id, group: "handout", expects: id, source: "test", run, ...more };
}

/** Runs `checks` with a target that is a clock; records each preparation. */
async function run(
  checks: Check<Context>[],
  more: { runLimitMs?: number; signal?: AbortSignal; jobs?: number } = {},
): Promise<{ results: CheckResult[]; prepared: string[] }> {
  const prepared: string[] = [];
  const results = await runChecks(checks, {
    jobs: more.jobs ?? 2,
    signal: more.signal ?? new AbortController().signal,
    limits: { startupMs: 0, timeoutWaitMs: 0 },
    runLimitMs: more.runLimitMs ?? 60_000,
    graceMs: 50,
    renews: true,
    prepare(check, clock, fresh) {
      prepared.push(`${check.id}${fresh ? " (fresh)" : ""}`);
      return Promise.resolve({
        context: { clock, fresh },
        output: () => ["what it printed"],
        finish: () => Promise.resolve(),
      });
    },
  });
  return { results, prepared };
}

Deno.test("conformance runner: pass, fail, skip, and an error are each a result with its reason", async () => {
  const { results } = await run([
    check("passes", () => Promise.resolve("a note")),
    check("fails", () => {
      throw new CheckFailure("came the wrong line", {
        expected: "SERVER(a): 101 Authentication successful",
        got: "SERVER(a): 101 Welcome",
      });
    }),
    check("skips", () => {
      throw new CheckSkipped("needs five users");
    }),
    check("throws", () => {
      throw new Error("connection refused");
    }),
  ]);
  assert.deepEqual(
    results.map((r) => [r.id, r.outcome, r.reason, r.expected, r.got]),
    [
      ["passes", "pass", "a note", undefined, undefined],
      [
        "fails",
        "fail",
        "came the wrong line",
        "SERVER(a): 101 Authentication successful",
        "SERVER(a): 101 Welcome",
      ],
      ["skips", "skip", "needs five users", undefined, undefined],
      ["throws", "fail", "connection refused", undefined, undefined],
    ],
  );
  assert.deepEqual(results[1].output, ["what it printed"]);
  assert.deepEqual(results[0].output, []);
});

Deno.test("conformance runner: a check's time runs out, and one that never ends is given up", async () => {
  const began = performance.now();
  const { results } = await run([
    check("slow", async ({ clock }) => {
      await delay(60_000, { signal: clock.signal });
      if (clock.expired) throw new CheckFailure("nothing within 0.1 s");
    }, { timeoutMs: 100 }),
    check("stuck", () => new Promise(() => {}), { timeoutMs: 100 }),
  ]);
  assert.equal(results[0].outcome, "fail");
  assert.equal(results[0].reason, "nothing within 0.1 s");
  assert.equal(results[1].outcome, "fail");
  assert.equal(results[1].reason, "the check did not end within 150 ms");
  assert.ok(performance.now() - began < 5_000);
});

Deno.test("conformance runner: a check that needs a new target runs again, on a fresh one", async () => {
  const { results, prepared } = await run([
    check("picky", ({ fresh }) => {
      if (!fresh) throw new FreshTargetNeeded("someone else is online");
      return Promise.resolve();
    }),
  ]);
  assert.deepEqual(prepared, ["picky", "picky (fresh)"]);
  assert.equal(results[0].outcome, "pass");
});

Deno.test("conformance runner: the whole run's limit and Ctrl-C leave the rest not run", async () => {
  const slow = (id: string) =>
    check(id, ({ clock }) => delay(200, { signal: clock.signal }));
  const limited = await run([slow("a"), slow("b"), slow("c")], {
    runLimitMs: 100,
    jobs: 1,
  });
  assert.deepEqual(
    limited.results.map((r) => [r.id, r.outcome, r.reason]),
    [
      ["a", "pass", undefined],
      ["b", "fail", "not run: the whole run reached its time limit"],
      ["c", "fail", "not run: the whole run reached its time limit"],
    ],
  );
  const interrupt = new AbortController();
  const interrupted = await run([
    check("a", async ({ clock }) => {
      interrupt.abort();
      await delay(60_000, { signal: clock.signal });
      throw new Error("cut short");
    }),
    slow("b"),
  ], { signal: interrupt.signal, jobs: 1 });
  assert.deepEqual(
    interrupted.results.map((r) => [r.id, r.outcome, r.reason]),
    [
      ["a", "skip", "interrupted"],
      ["b", "skip", "not run: the run was interrupted"],
    ],
  );
});

Deno.test("conformance runner: no more checks at once than --jobs", async () => {
  let running = 0;
  let most = 0;
  const counted = (id: string) =>
    check(id, async () => {
      most = Math.max(most, ++running);
      await delay(20);
      running--;
    });
  await run(["a", "b", "c", "d", "e"].map(counted), { jobs: 2 });
  assert.equal(most, 2);
});

function result(
  id: string,
  group: CheckResult["group"],
  outcome: CheckResult["outcome"],
): CheckResult {
  return {
    id,
    group,
    outcome,
    expects: `${id} | as expected`,
    source: "test",
    reason: outcome === "fail" ? "why" : undefined,
    dialog: [],
    output: [],
    ms: 1,
  };
}

Deno.test("conformance report: only Handout failures count, unless --strict; skips never do", () => {
  const advice = [
    result("a", "handout", "pass"),
    result("b", "handout", "skip"),
    result("c", "decisions", "fail"),
    result("d", "robustness", "fail"),
  ];
  assert.equal(exitCodeOf(advice, false), 0);
  assert.equal(exitCodeOf(advice, true), 1);
  assert.equal(exitCodeOf([result("e", "handout", "fail")], false), 1);
  const report: Report = {
    mode: "client",
    target: "./client {host} {port}",
    started: "2024-02-23T23:59:00.000Z",
    seconds: 1,
    strict: false,
    interrupted: false,
    results: advice,
  };
  const text = formatText(report);
  assert.match(text, /^ {2}– b +b \| as expected\n {6}skipped: undefined$/m);
  assert.match(
    text,
    /^Handout 1 of 1 passed, 1 skipped · Decisions 0 of 1 passed · Robustness 0 of 1 passed$/m,
  );
  assert.match(text, /^PASSED: every Handout check passed \(exit code 0\)$/m);
  const markdown = formatMarkdown(report);
  assert.match(markdown, /^\| ✗ \| `c` \| c \\\| as expected \| test \|$/m);
});

Deno.test("conformance dialog: control characters shown, long lines cut, the last lines kept", () => {
  assert.equal(displayLine("101 ok\r"), "101 ok\\r");
  assert.equal(displayLine("a\tb\x00"), "a\\tb\\x00");
  const long = displayLine("x".repeat(100_000));
  assert.equal(long, `${"x".repeat(100)}… (100000 bytes in all)`);
  const dialog = new Dialog();
  for (let n = 0; n < 70; n++) {
    dialog.wire("jacky", { link: "a", from: "CLIENT", line: `/to bob ${n}` });
  }
  dialog.start();
  dialog.note("bob", "vanishes");
  const lines = dialog.render();
  assert.equal(lines[0], "(11 earlier lines not shown)");
  assert.equal(lines[1], "jacky --:-- CLIENT(a): /to bob 11");
  assert.equal(lines.at(-1), "bob   00:00 (vanishes)");
});

/**
 * Whether process `pid` runs: on Linux, a process that has ended but that
 * nobody has reaped yet (a zombie) no longer runs. Its state is read by
 * `cat`, as reading `/proc` takes more than the tests' permissions.
 */
function running(pid: number): boolean {
  const output = new Deno.Command("cat", {
    args: [`/proc/${pid}/stat`],
    stderr: "null",
  }).outputSync();
  if (!output.success) return false;
  const stat = new TextDecoder().decode(output.stdout);
  return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
}

Deno.test({
  name: "conformance process: stopping a program stops what it started too",
  ignore: Deno.build.os !== "linux",
}, async () => {
  const program = TargetProcess.start([
    "sh",
    "-c",
    "sleep 30 & echo $!; wait",
  ]);
  const at = await program.waitForText("\n", { from: 0, ms: 5_000 });
  assert.ok(at !== undefined, "the program printed no process id");
  const child = Number(program.stdout.trim());
  assert.ok(running(child), "the child did not start");
  const began = performance.now();
  await program.stop();
  assert.ok(program.status !== undefined);
  assert.ok(!running(child), "the child is still running");
  assert.ok(performance.now() - began < 5_000, "stopping took too long");
});

Deno.test({
  name:
    "conformance process: a program that ignores SIGTERM is killed after a second",
  ignore: Deno.build.os !== "linux",
}, async () => {
  const program = TargetProcess.start([
    "sh",
    "-c",
    "trap '' TERM; sleep 30 & echo $!; wait",
  ]);
  await program.waitForText("\n", { from: 0, ms: 5_000 });
  const child = Number(program.stdout.trim());
  const began = performance.now();
  await program.stop();
  const took = performance.now() - began;
  assert.equal(program.status?.signal, "SIGKILL");
  assert.ok(!running(child), "the child is still running");
  assert.ok(took >= 900 && took < 5_000, `stopping took ${took} ms`);
});

Deno.test({
  name:
    "conformance process: output held open by a process outside the group does not hold the kit",
  ignore: Deno.build.os !== "linux",
}, async () => {
  // setsid takes the sleep out of the program's group, with its output.
  const program = TargetProcess.start([
    "sh",
    "-c",
    "setsid sleep 30 & echo $!",
  ]);
  let escaped = 0;
  try {
    const status = await program.waitForExit(5_000);
    assert.ok(status?.success, "the program did not end");
    escaped = Number(program.stdout.trim());
    assert.ok(running(escaped), "the escaped process did not start");
    const began = performance.now();
    await program.stop();
    assert.ok(performance.now() - began < 3_000);
  } finally {
    if (escaped > 0) Deno.kill(escaped, "SIGKILL");
  }
});
