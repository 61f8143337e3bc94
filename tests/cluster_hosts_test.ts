/**
 * A cluster across real hosts, not only loopback: three network namespaces
 * joined by a bridge. Host 1 runs `nats-server` and node n1, host 2 runs node
 * n2, host 3 runs the clients: jacky logs in to n1, bob and michael to n2, so
 * La, Lb and the NATS links all cross hosts. The Appendix is replayed with
 * real `client.ts` processes, driven through their standard input.
 */

import assert from "node:assert/strict";
import { startServerProcess } from "./support/faults.ts";
import { NatsServer } from "./support/nats.ts";
import { TestNetwork } from "./support/netns.ts";
import {
  BYE,
  CLIENT_SCRIPT,
  type ClientProcess,
  DELIVERED,
  ProcessScope,
  SERVER_SCRIPT,
  USERS_FILE,
} from "./support/processes.ts";

/** The programs, run on `exec`'s host. */
function programsOn(exec: string[]) {
  return {
    server: [
      ...exec,
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      SERVER_SCRIPT,
    ],
    client: [...exec, Deno.execPath(), "run", "--allow-net", CLIENT_SCRIPT],
  };
}

/** Types `/list` until the answer is `expected`, within a second. */
async function listIs(client: ClientProcess, expected: string): Promise<void> {
  const deadline = performance.now() + 1_000;
  for (;;) {
    const reply = await client.command("/list", "301");
    if (reply === expected) return;
    assert.ok(performance.now() < deadline, `${client.name}: ${reply}`);
  }
}

/** `sender` types `line`; `receiver` shows `shown`; `sender` gets `303`. */
async function chat(
  sender: ClientProcess,
  line: string,
  receivers: [ClientProcess, string][],
): Promise<void> {
  await sender.writeLine(line);
  for (const [receiver, shown] of receivers) {
    assert.equal(await receiver.waitForLine((l) => l === shown), shown);
  }
  assert.equal(await sender.waitForLine(/^30\d /), DELIVERED);
}

Deno.test("cluster across three hosts: the Appendix with La, Lb and NATS crossing hosts", async () => {
  await using network = await TestNetwork.create(3);
  const [host1, host2, host3] = network.hosts;
  await using nats = await NatsServer.start({
    hostname: host1.address,
    exec: host1.exec,
  });
  await using nodes1 = new ProcessScope(programsOn(host1.exec));
  await using nodes2 = new ProcessScope(programsOn(host2.exec));
  await using clients = new ProcessScope(programsOn(host3.exec));
  const options = [`--cluster=${nats.url}`];
  const [n1, n2] = await Promise.all([
    startServerProcess(nodes1, [...options, "--node-name=n1"], USERS_FILE),
    startServerProcess(nodes2, [...options, "--node-name=n2"], USERS_FILE),
  ]);
  const connect = (address: string, port: number | undefined, name: string) =>
    clients.spawnClient([address, String(port)], name);

  // "At that time, Bob and Michael have already been online."
  const bob = connect(host2.address, n2.port, "bob");
  await bob.login("bob");
  const michael = connect(host2.address, n2.port, "michael");
  await michael.login("michael");
  const jacky = connect(host1.address, n1.port, "jacky");
  await jacky.login("jacky");
  await listIs(jacky, "301 jacky bob michael");

  await chat(jacky, "/to bob Hello! Nice to meet you!", [
    [bob, "/from jacky Hello! Nice to meet you!"],
  ]);
  await chat(jacky, "/to michael Hi, Michael!", [
    [michael, "/from jacky Hi, Michael!"],
  ]);
  await chat(michael, "/to jacky Hi, Jacky!", [
    [jacky, "/from michael Hi, Jacky!"],
  ]);
  await chat(jacky, "/toall How about meeting at 3pm today?", [
    [bob, "/broadcastfrom jacky How about meeting at 3pm today?"],
    [michael, "/broadcastfrom jacky How about meeting at 3pm today?"],
  ]);
  await chat(bob, "/to jacky Jacky, nice to meet you too!", [
    [jacky, "/from bob Jacky, nice to meet you too!"],
  ]);
  await chat(bob, "/toall OK.", [
    [jacky, "/broadcastfrom bob OK."],
    [michael, "/broadcastfrom bob OK."],
  ]);
  await chat(michael, "/toall No problem.", [
    [jacky, "/broadcastfrom michael No problem."],
    [bob, "/broadcastfrom michael No problem."],
  ]);
  assert.equal(await jacky.command("/exit", "310"), BYE);
  assert.equal((await jacky.waitForExit()).code, 0, jacky.report());
  await listIs(bob, "301 bob michael");

  // Every link crossed hosts: the nodes saw the clients at host 3's address.
  for (const node of [n1, n2]) {
    assert.match(
      node.stderr,
      new RegExp(`${host3.address.replaceAll(".", "\\.")}:\\d+ logged in`),
    );
    assert.doesNotMatch(node.stderr, /127\.0\.0\.1/);
  }
});
