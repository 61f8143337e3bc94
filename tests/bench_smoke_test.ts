/**
 * A smoke run of the benchmark's load generator: a few simulated users in
 * two worker processes, for a few seconds, against our server started as a
 * real process; then the same against the floor relay and, where Python 3
 * is installed, the baseline. It keeps the tooling working; it measures
 * nothing (`deno task bench` does).
 *
 * @module
 */

import assert from "node:assert/strict";
import { LoadGenerator } from "../bench/load/load_generator.ts";
import { writeUsersFile } from "../bench/load/users.ts";
import { type ServerKind, ServerProcess } from "../bench/servers.ts";
import { percentile, sortedNumbers } from "../bench/stats.ts";
import { pollUntil } from "./support/faults.ts";

const USERS = 6;
/** Ample time for a few dozen round trips, on a loaded machine too. */
const LOOP_DEADLINE_MS = 10_000;
const DELIVERED = "303 Message delivery successful";

async function pythonAvailable(): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("python3", {
      args: ["--version"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

/**
 * Every operation of the load generator, once, with sanity checks; with
 * `web`, the second worker's users are browser users of the web port.
 */
async function smokeRun(kind: ServerKind, web = false): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bench_smoke_" });
  let server: ServerProcess | undefined;
  let load: LoadGenerator | undefined;
  try {
    const usersFile = await writeUsersFile(dir, USERS);
    server = await ServerProcess.start(kind, usersFile, { web });
    assert.ok(server.port > 0 && server.startupMs > 0);
    assert.equal(server.webPort !== undefined, web);
    // Three users per worker: the users are spread over two processes.
    load = await LoadGenerator.start({
      port: server.port,
      users: USERS,
      usersPerWorker: 3,
      webPort: server.webPort,
      webFrom: web ? 3 : undefined,
    });
    assert.equal(load.workerPids.length, 2);

    const login = await load.login();
    assert.deepEqual(
      { ok: login.ok, failed: login.failed, errors: login.errors },
      { ok: USERS, failed: 0, errors: [] },
    );
    assert.ok(login.elapsedMs > 0 && login.elapsedMs < 10_000);

    // Every user sends one /to and receives one, across the two workers.
    const toEach = await load.toEach();
    assert.equal(toEach.ok, USERS);
    assert.equal(toEach.failed, 0);
    assert.equal(toEach.receivers, USERS);

    // A broadcast from a user of the second worker reaches all the others.
    const fanOut = await load.toAll(4);
    assert.equal(fanOut.reply, DELIVERED);
    assert.equal(fanOut.receivers, USERS - 1);
    assert.equal(fanOut.receipts, USERS - 1);
    assert.ok(fanOut.firstMs >= 0 && fanOut.firstMs <= fanOut.lastMs);
    assert.ok(fanOut.lastMs <= fanOut.replyMs);
    assert.ok(fanOut.spreadMs >= 0 && fanOut.replyMs < 5_000);

    // Closed loops, one pair per worker and one across them.
    const pairs: [number, number][] = [[0, 1], [3, 4], [2, 5]];
    const before = await load.counters();
    await load.startLoop(pairs, "smoke test");
    await pollUntil(
      async () => (await load!.counters()).delivered - before.delivered >= 30,
      () => "the closed loops delivered fewer than 30 messages",
      LOOP_DEADLINE_MS,
    );
    await load.stopLoop();
    // Read again: a worker's own answer to stopLoop may predate the last
    // lines another worker's senders delivered to its users.
    const after = await load.counters();
    const delivered = after.delivered - before.delivered;
    assert.ok(delivered >= 30, `only ${delivered} deliveries`);
    assert.equal(after.failed, 0);
    assert.equal(after.received - before.received, delivered);
    assert.equal(after.dropped, 0);

    // An open loop at 200 messages per second for half a second.
    const open = await load.openLoop(pairs, 200, 500, 100, "smoke test");
    assert.equal(open.sent, 100);
    assert.equal(open.failed, 0);
    assert.equal(open.delivered, open.latenciesMs.length);
    assert.ok(open.latenciesMs.length >= 70, `${open.latenciesMs.length}`);
    const sorted = sortedNumbers(open.latenciesMs);
    assert.ok(sorted[0] > 0);
    assert.ok(percentile(sorted, 50) < 1_000);
  } finally {
    await server?.stop();
    await load?.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("bench: the load generator drives our server", async () => {
  await smokeRun("ours");
});

Deno.test("bench: the load generator drives web users too", async () => {
  await smokeRun("ours", true);
});

Deno.test("bench: the load generator drives the floor relay", async () => {
  await smokeRun("floor");
});

Deno.test({
  name: "bench: the load generator drives the Python baseline",
  ignore: !(await pythonAvailable()),
  fn: async () => {
    await smokeRun("baseline");
  },
});
