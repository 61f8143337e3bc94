/**
 * The server killed (SIGKILL) at each step of the dialog, with a real
 * `client.ts` process: the client must print exactly one line on stderr, no
 * stack trace, and exit with code 1 within one second.
 *
 * Some steps pass too fast to catch between real programs; there a
 * {@linkcode LineRelay} stands in for the network and holds back one line
 * (the client's `/port`, the server's `201`, the client's `302`), or points
 * `/port` at a listener that never accepts. Where the server itself makes
 * the client wait (a throttled login, a receiver that holds a message), no
 * relay is used.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  pollUntil,
  type StalledListener,
  stalledListener,
  startServerProcess,
  waitForStderr,
} from "./support/faults.ts";
import {
  assertOneLine,
  AUTH_FAILED,
  AUTH_OK,
  type ClientProcess,
  PASSWORD_PROMPT,
  PASSWORDS,
  ProcessScope,
  type ServerProcess,
  START_TIMEOUT_MS,
  USER_PROMPT,
  USERS_FILE,
} from "./support/processes.ts";
import { LineRelay } from "./support/relay.ts";
import { WirePeer } from "./support/wire_peer.ts";

/** The client must notice a dead server and exit within a second. */
const DEATH_NOTICE_MS = 1_000;

/** What a case may leave open; closed after the kill. */
interface World {
  scope: ProcessScope;
  server: ServerProcess;
  relays: LineRelay[];
  peers: WirePeer[];
  stalled?: StalledListener;
}

interface KillCase {
  step: string;
  /** Brings a client to the step and returns it. */
  reach(world: World): Promise<ClientProcess>;
}

const LOOPBACK = "127.0.0.1";

/** A bystander logged in with Lb, straight to the server. */
async function bystander(
  world: World,
  name: string,
  autoReply = true,
): Promise<WirePeer> {
  const peer = await WirePeer.connect(
    { hostname: LOOPBACK, port: world.server.port },
    { name, autoReply },
  );
  world.peers.push(peer);
  await peer.join(name, PASSWORDS[name]);
  return peer;
}

/** Types the user name and password at the prompts, without waiting for 101. */
async function typeLogin(
  client: ClientProcess,
  password = PASSWORDS.jacky,
): Promise<void> {
  await client.waitForLine(USER_PROMPT, START_TIMEOUT_MS);
  await client.writeLine("jacky");
  await client.waitForLine(PASSWORD_PROMPT);
  await client.writeLine(password);
}

/** A relay in front of the server for La. */
function laRelay(
  world: World,
  onLine: (from: "accepted" | "target", line: string) => string | null,
): LineRelay {
  const relay = new LineRelay({
    target: { hostname: LOOPBACK, port: world.server.port },
    onLine,
  });
  world.relays.push(relay);
  return relay;
}

/**
 * A client whose Lb goes through a relay that holds back its `302` replies:
 * to the server, every chat line sent to this client stays in flight.
 */
function clientWithHeldReceipts(
  world: World,
): { client: ClientProcess; lbRelays: LineRelay[] } {
  const lbRelays: LineRelay[] = [];
  const la = laRelay(world, (from, line) => {
    const port = from === "accepted" ? line.match(/^\/port (\d+)$/) : null;
    if (port === null) return line;
    const lb = new LineRelay({
      target: { hostname: LOOPBACK, port: Number(port[1]) },
      onLine: (side, reply) =>
        side === "target" && reply.startsWith("302 ") ? null : reply,
    });
    world.relays.push(lb);
    lbRelays.push(lb);
    return `/port ${lb.port}`;
  });
  return { client: world.scope.startClient(la.port, "jacky"), lbRelays };
}

/** Waits until a relay has held back a line matching `pattern`. */
async function held(relays: LineRelay[], pattern: RegExp): Promise<void> {
  await pollUntil(
    () => relays.some((relay) => relay.held.some((line) => pattern.test(line))),
    () =>
      `no line ${pattern} held back; held: ${
        JSON.stringify(relays.flatMap((relay) => relay.held))
      }`,
  );
}

/** The server's trace shows jacky's line `line` on La. */
async function serverRead(world: World, line: string): Promise<void> {
  await waitForStderr(
    world.server,
    (stderr) =>
      stderr.split("\n").some((traced) =>
        / \d\d:\d\d CLIENT\(a\): /.test(traced) &&
        traced.endsWith(`CLIENT(a): ${line}`)
      ),
    `the trace of "${line}"`,
  );
}

const CASES: KillCase[] = [
  {
    step: "connected, at the user-name prompt",
    async reach(world) {
      const client = world.scope.startClient(world.server.port, "jacky");
      await client.waitForLine(USER_PROMPT, START_TIMEOUT_MS);
      return client;
    },
  },
  {
    step: "/login sent, its 102 delayed by the login throttle",
    async reach(world) {
      const client = world.scope.startClient(world.server.port, "jacky");
      for (let attempt = 1; attempt <= 3; attempt++) {
        await typeLogin(client, "wrong-password");
        await client.waitForLine(AUTH_FAILED);
      }
      // The fourth failure in a row is answered after 1 s.
      await typeLogin(client, "wrong-password");
      await waitForStderr(
        world.server,
        (stderr) =>
          stderr.split("\n").filter((line) =>
            line.endsWith("CLIENT(a): /login jacky ********")
          ).length === 4,
        "the fourth /login in its trace",
      );
      assert.equal(
        client.lines.filter((line) => line === AUTH_FAILED).length,
        3,
        "the fourth 102 came before the kill",
      );
      return client;
    },
  },
  {
    step: "after 101, before the server has /port",
    async reach(world) {
      const relay = laRelay(
        world,
        (from, line) =>
          from === "accepted" && line.startsWith("/port ") ? null : line,
      );
      const client = world.scope.startClient(relay.port, "jacky");
      await typeLogin(client);
      await client.waitForLine(AUTH_OK);
      await held([relay], /^accepted: \/port \d+$/);
      return client;
    },
  },
  {
    step: "/port sent, 201 not yet delivered",
    async reach(world) {
      const relay = laRelay(
        world,
        (from, line) =>
          from === "target" && line.startsWith("201 ") ? null : line,
      );
      const client = world.scope.startClient(relay.port, "jacky");
      await typeLogin(client);
      await client.waitForLine(AUTH_OK);
      await held([relay], /^target: 201 /);
      return client;
    },
  },
  {
    step: "while the server connects Lb",
    async reach(world) {
      const stalled = await stalledListener();
      world.stalled = stalled;
      const relay = laRelay(
        world,
        (from, line) =>
          from === "accepted" && /^\/port \d+$/.test(line)
            ? `/port ${stalled.port}`
            : line,
      );
      const client = world.scope.startClient(relay.port, "jacky");
      await typeLogin(client);
      await client.waitForLine(AUTH_OK);
      await serverRead(world, `/port ${stalled.port}`);
      return client;
    },
  },
  {
    step: "after 201, idle",
    async reach(world) {
      const client = world.scope.startClient(world.server.port, "jacky");
      await client.login("jacky");
      return client;
    },
  },
  {
    step: "a /from in flight on Lb, before the server has the 302",
    async reach(world) {
      const { client, lbRelays } = clientWithHeldReceipts(world);
      await client.login("jacky");
      const bob = await bystander(world, "bob");
      await bob.send("/to jacky are you there?");
      await client.waitForLine("/from bob are you there?");
      await held(lbRelays, /^target: 302 /);
      return client;
    },
  },
  {
    step: "waiting for 303",
    async reach(world) {
      const bob = await bystander(world, "bob", false);
      const client = world.scope.startClient(world.server.port, "jacky");
      await client.login("jacky");
      await client.writeLine("/to bob wait for me");
      await bob.lb.expectLine("/from jacky wait for me");
      return client;
    },
  },
  {
    step: "in the middle of its /toall fan-out",
    async reach(world) {
      const bob = await bystander(world, "bob");
      const michael = await bystander(world, "michael", false);
      const client = world.scope.startClient(world.server.port, "jacky");
      await client.login("jacky");
      await client.writeLine("/toall fan-out");
      await bob.lb.expectLine("/broadcastfrom jacky fan-out");
      await michael.lb.expectLine("/broadcastfrom jacky fan-out");
      return client;
    },
  },
  {
    step: "/exit sent, 310 not yet sent (a delivery to jacky in flight)",
    async reach(world) {
      const { client, lbRelays } = clientWithHeldReceipts(world);
      await client.login("jacky");
      const bob = await bystander(world, "bob");
      await bob.send("/to jacky one more thing");
      await client.waitForLine("/from bob one more thing");
      await held(lbRelays, /^target: 302 /);
      // The server takes jacky off the list, then waits for the exchange on
      // jacky's Lb to finish before it answers 310.
      await client.writeLine("/exit");
      await serverRead(world, "/exit");
      return client;
    },
  },
];

for (const { step, reach } of CASES) {
  Deno.test(`server killed: ${step} → the client prints one line and exits 1 within a second`, async () => {
    await using scope = new ProcessScope();
    const server = await startServerProcess(scope, ["--trace"], USERS_FILE);
    const world: World = { scope, server, relays: [], peers: [] };
    try {
      const client = await reach(world);
      assert.ok(!client.exited, client.report());
      const killedAt = performance.now();
      server.kill("SIGKILL");
      const exit = await client.waitForExit(DEATH_NOTICE_MS + 2_000);
      const took = performance.now() - killedAt;
      assert.equal(exit.code, 1, client.report());
      assertOneLine(exit, client.name);
      assert.ok(
        took <= DEATH_NOTICE_MS,
        `the client took ${Math.round(took)} ms to exit\n${client.report()}`,
      );
    } finally {
      await Promise.all(world.peers.map((peer) => peer.close()));
      await Promise.all(world.relays.map((relay) => relay.close()));
      world.stalled?.close();
    }
  });
}
