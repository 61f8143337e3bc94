/**
 * Server checks of the handout's abnormal cases: clients that vanish at each
 * step, a receiver that never answers, 200 clients at once, a huge line,
 * invalid UTF-8, lines cut up or run together, and a bad start. Reported as
 * advice; replies are recognised by their status code.
 *
 * @module
 */

import { join } from "node:path";
import { AsyncLock } from "../../lib/async/async_lock.ts";
import { delay } from "../../lib/async/delay.ts";
import { describeError } from "../../lib/errors.ts";
import {
  AUTH_SUCCESSFUL,
  DELIVERY_FAILED,
  DELIVERY_SUCCESSFUL,
  formatLogin,
  formatTo,
  hasStatusOf,
  LIST,
  LIST_CODE,
  UNRECOGNIZED,
} from "../../lib/protocol.ts";
import { isThisMachine, listenBacklog } from "./backlog.ts";
import { CheckFailure } from "./check.ts";
import { hasTraceback, lastLines, type TargetProcess } from "./process.ts";
import {
  listedNames,
  type Peer,
  type ServerCheck,
  type ServerCheckContext,
} from "./server_peer.ts";
import { freePort } from "./server_target.ts";
import type { User } from "./users.ts";
import { formatMs, SILENCE, within } from "./wait.ts";
import { CLOSED, KitLink } from "./wire.ts";

const LIST_REPLY = `${LIST_CODE} …`;
const encoder = new TextEncoder();
/** Clients that connect at once. */
const CROWD = 200;
/** How long a crowd may wait for another of the kit's crowds to end. */
const CROWD_WAIT_MS = 60_000;
/** Pause between two pieces of one line, so that they travel apart. */
const SEGMENT_GAP_MS = 100;

/** Polls `/list` from `observer` until `name` is off it. */
async function waitUntilUnlisted(
  observer: Peer,
  name: string,
  signal: AbortSignal,
): Promise<void> {
  const ms = 3000;
  const deadline = performance.now() + ms;
  for (;;) {
    await observer.la.send(LIST);
    const line = await observer.la.expectStatus(LIST_REPLY);
    if (!listedNames(line).includes(name)) return;
    if (performance.now() >= deadline) {
      throw new CheckFailure(
        `${name} was still on the online list ${formatMs(ms)} after vanishing`,
        { expected: `SERVER(a): ${LIST_CODE} … without ${name}`, got: line },
      );
    }
    await delay(100, { signal });
  }
}

async function clientVanishes(t: ServerCheckContext): Promise<void> {
  const victim = t.users.take("jacky");
  const observer = await t.join("alice");
  const vanishes = async (peer: Peer, step: string) => {
    t.dialog.note(victim.name, `vanishes ${step}`);
    await peer.vanish();
    await waitUntilUnlisted(observer, victim.name, t.signal);
  };
  // Each login after a vanishing shows that the server let the user go.
  await vanishes(await t.connect(victim), "after connecting");
  await vanishes(await t.login(victim), "after 101");
  await vanishes(await t.join(victim), "after 201");
  const receiver = await t.join(victim, { receipts: "hold" });
  const sender = await t.join("bob");
  await sender.la.send(formatTo(victim.name, "Are you there?"));
  await receiver.lb.expectAny(`a chat line for ${victim.name}`);
  await vanishes(receiver, "with a chat line for it in flight");
  await sender.la.expectStatus(DELIVERY_FAILED);
  await (await t.login(victim)).vanish();
}

/**
 * One crowd at a time in this process: 200 connections at once measure a
 * server only if nothing else of the kit's is bursting meanwhile (several
 * runs side by side, as in the kit's own tests).
 */
const crowdTurn = new AsyncLock();

async function crowd(t: ServerCheckContext): Promise<string> {
  const users = t.users.crowd(CROWD);
  const turn = crowdTurn.acquire();
  const held = await within(turn, CROWD_WAIT_MS, t.signal);
  if (held === SILENCE) {
    turn.then((handle) => handle.release());
    throw new CheckFailure("the kit's other crowds took too long");
  }
  try {
    const outcome = await crowdAtOnce(t, users);
    // Fast enough this time; a backlog too small for the crowd would still
    // make it wait whenever the server is a little slower to accept.
    const backlog = isThisMachine(t.address.hostname)
      ? await listenBacklog(t.address.port)
      : undefined;
    if (backlog !== undefined && backlog < CROWD) {
      throw new CheckFailure(
        `the server listens with a backlog of ${backlog}: of ${CROWD} clients connecting at once, those past it wait for the kernel's SYN retries (1 s, then 3 s, …)`,
        { expected: `a backlog of at least ${CROWD}`, got: String(backlog) },
      );
    }
    return outcome;
  } finally {
    held.release();
  }
}

async function crowdAtOnce(
  t: ServerCheckContext,
  users: User[],
): Promise<string> {
  const began = performance.now();
  const outcomes = await Promise.all(users.map(async (user) => {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect(t.address);
    } catch (error) {
      return `${user.name}: connection ${describeError(error)}`;
    }
    const la = new KitLink(conn, {
      dialog: t.dialog,
      who: user.name,
      link: "a",
      kit: "CLIENT",
      signal: t.signal,
      quiet: true,
    });
    try {
      await la.send(formatLogin(user.name, user.password));
      const left = 5000 - (performance.now() - began);
      const reply = await la.read(Math.max(0, left));
      if (reply === SILENCE) return `${user.name}: no answer to /login`;
      if (reply === CLOSED) return `${user.name}: the server closed La`;
      if (!hasStatusOf(reply, AUTH_SUCCESSFUL)) {
        return `${user.name}: came ${reply}`;
      }
      return performance.now() - began;
    } catch (error) {
      return `${user.name}: ${describeError(error)}`;
    } finally {
      await la.close();
    }
  }));
  const failures = outcomes.filter((o): o is string => typeof o === "string");
  if (failures.length > 0) {
    for (const failure of failures.slice(0, 5)) t.dialog.note("crowd", failure);
    throw new CheckFailure(
      `${failures.length} of ${CROWD} clients connecting at once were turned away or not answered within 5 s (first: ${
        failures[0]
      })`,
    );
  }
  const slowest = Math.max(...outcomes as number[]);
  return `all ${CROWD} answered; the slowest after ${Math.round(slowest)} ms`;
}

/** A server started wrongly must say so in a line or two and exit. */
async function startsBadly(
  t: ServerCheckContext,
  launch: () => TargetProcess,
): Promise<void> {
  const server = launch();
  t.dialog.note("server", `started: ${server.commandLine}`);
  t.defer(() => server.stop());
  const status = await server.waitForExit(t.startupMs, t.signal);
  const output = lastLines(`${server.stdout}\n${server.stderr}`, 20);
  for (const line of output) t.dialog.shown("server", line);
  if (status === undefined) {
    throw new CheckFailure(
      `the server was still running after ${formatMs(t.startupMs)}`,
      { expected: "one error line and an exit", got: "still running" },
    );
  }
  t.dialog.note("server", server.describeExit());
  if (hasTraceback(`${server.stdout}\n${server.stderr}`)) {
    throw new CheckFailure("the server printed a stack trace", {
      expected: "one error line",
      got: "a stack trace",
    });
  }
  if (output.length === 0) {
    throw new CheckFailure("the server exited without a word", {
      expected: "one error line",
      got: "nothing",
    });
  }
  if (status.success) {
    throw new CheckFailure("the server exited with code 0 after an error", {
      expected: "an exit code other than 0",
      got: "exit code 0",
    });
  }
}

export const SERVER_ROBUSTNESS_CHECKS: ServerCheck[] = [
  {
    id: "client-vanishes",
    group: "robustness",
    source: "Implementation notes 4; Program testing",
    timeoutMs: 20_000,
    expects:
      "A client that vanishes (its links closed) after connecting, after `101`, after `201`, or with a chat line for it in flight, is taken off the list (a sender waiting on it gets `304`) and can log in again",
    run: clientVanishes,
  },
  {
    id: "silent-receiver-others",
    group: "robustness",
    source: "Implementation notes 1 and 4",
    expects:
      "While a receiver never answers its chat line, other users' messages are still delivered",
    async run(t) {
      const bob = await t.join("bob", { receipts: "hold" });
      const jacky = await t.join("jacky");
      const michael = await t.join("michael");
      const alice = await t.join("alice");
      await jacky.la.send(formatTo(bob.name, "Hello?"));
      await bob.lb.expectAny("a chat line for bob, never answered");
      await michael.la.send(formatTo(alice.name, "Hi, Alice!"));
      await alice.lb.expectAny("a chat line for alice");
      await michael.la.expectStatus(DELIVERY_SUCCESSFUL);
      // Had michael's message waited for bob's to fail, jacky's 304 would
      // have come first.
      const before = await jacky.la.read(0);
      if (typeof before === "string" && hasStatusOf(before, DELIVERY_FAILED)) {
        throw new CheckFailure(
          "michael's message was delivered only once bob's had failed",
          {
            expected: `${michael.name}'s 303 while bob's message still waits`,
            got: `${jacky.name}'s ${jacky.la.theirs(before)} first`,
          },
        );
      }
    },
  },
  {
    id: "silent-receiver-304",
    group: "robustness",
    source: "Handling commands: /to (304)",
    timeoutMs: (limits) => limits.timeoutWaitMs + 5_000,
    expects:
      "A receiver that never answers its chat line: the sender gets `304` in the end (the kit waits --timeout-wait seconds)",
    async run(t) {
      const bob = await t.join("bob", { receipts: "hold" });
      const jacky = await t.join("jacky");
      const began = performance.now();
      await jacky.la.send(formatTo(bob.name, "Hello?"));
      await bob.lb.expectAny("a chat line for bob, never answered");
      await jacky.la.expectStatus(DELIVERY_FAILED, t.timeoutWaitMs);
      return `304 after ${((performance.now() - began) / 1000).toFixed(1)} s`;
    },
  },
  {
    id: "crowd",
    group: "robustness",
    source: "Server basics (a thread per client)",
    timeoutMs: CROWD_WAIT_MS + 10_000,
    expects:
      `${CROWD} clients connecting at once are all accepted and answered within 5 s (a small listen backlog turns some away)`,
    run: crowd,
  },
  {
    id: "long-line",
    group: "robustness",
    source: "Implementation notes 4",
    expects:
      "A line of 100,000 bytes gets one answer (`401`), and the connection stays usable",
    async run(t) {
      const jacky = await t.join("jacky");
      const line = `/${"x".repeat(99_999)}`;
      await jacky.la.sendBytes(encoder.encode(`${line}\n`), line);
      await jacky.la.expectStatus(UNRECOGNIZED);
      await jacky.la.send(LIST);
      await jacky.la.expectStatus(LIST_REPLY);
    },
  },
  {
    id: "invalid-utf8",
    group: "robustness",
    source: "Implementation notes 4",
    expects:
      "A line that is not valid UTF-8 gets one answer (`401`), and the connection stays usable",
    async run(t) {
      const jacky = await t.join("jacky");
      await jacky.la.sendBytes(
        new Uint8Array([0x2f, 0xff, 0xfe, 0x0a]),
        "/\\xff\\xfe",
      );
      await jacky.la.expectStatus(UNRECOGNIZED);
      await jacky.la.send(LIST);
      await jacky.la.expectStatus(LIST_REPLY);
    },
  },
  {
    id: "split-lines",
    group: "robustness",
    source: "Implementation notes 4",
    expects:
      "A line cut across TCP segments (even inside a character), and two lines in one segment, are each answered once",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = await t.join("bob");
      await jacky.la.sendBytes(encoder.encode("/li"), "/li (first piece)");
      await delay(SEGMENT_GAP_MS, { signal: t.signal });
      await jacky.la.sendBytes(encoder.encode("st\n"), "st (second piece)");
      await jacky.la.expectStatus(LIST_REPLY);
      await jacky.la.sendBytes(
        encoder.encode(`${LIST}\n${LIST}\n`),
        `${LIST}\\n${LIST} (two lines in one write)`,
      );
      await jacky.la.expectStatus(LIST_REPLY);
      await jacky.la.expectStatus(LIST_REPLY);
      const bytes = encoder.encode(`${formatTo(bob.name, "héllo")}\n`);
      const cut = bytes.indexOf(0xc3) + 1;
      await jacky.la.sendBytes(
        bytes.subarray(0, cut),
        "… h\\xc3 (first piece)",
      );
      await delay(SEGMENT_GAP_MS, { signal: t.signal });
      await jacky.la.sendBytes(bytes.subarray(cut), "\\xa9llo (second piece)");
      await bob.lb.expectThat(
        (line) => line.endsWith(" héllo"),
        `SERVER(b): /from ${jacky.name} héllo`,
      );
      await jacky.la.expectStatus(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "missing-users-file",
    group: "robustness",
    source: "Program testing",
    noServer: true,
    timeoutMs: (limits) => limits.startupMs + 5_000,
    expects:
      "Started with a users file that does not exist, the server prints an error (no stack trace) and exits with a code other than 0",
    async run(t) {
      await startsBadly(
        t,
        () =>
          t.servers.launch(
            freePort(),
            join(t.servers.scratch, "no-such-users-file.txt"),
          ),
      );
    },
  },
  {
    id: "port-in-use",
    group: "robustness",
    source: "Program testing",
    noServer: true,
    timeoutMs: (limits) => limits.startupMs + 5_000,
    expects:
      "Started on a port already in use, the server prints an error (no stack trace) and exits with a code other than 0",
    async run(t) {
      const taken = Deno.listen({ hostname: "0.0.0.0", port: 0 });
      t.defer(() => taken.close());
      await startsBadly(
        t,
        () => t.servers.launch(taken.addr.port),
      );
    },
  },
];
