/**
 * Server checks of what the handout's text requires: the exact status
 * lines, the chat line formats, Lb built to the client's address, the
 * receipt awaited, the lock on a receiver's Lb, and the Appendix replayed.
 *
 * @module
 */

import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_FAILED,
  BUILD_SUCCESSFUL,
  BYE,
  DELIVERY_FAILED,
  DELIVERY_SUCCESSFUL,
  EXIT,
  formatDelivery,
  formatList,
  formatLogin,
  formatPort,
  formatTo,
  formatToAll,
  LIST,
  LIST_CODE,
  RECEIPT_SUCCESSFUL,
  statusCode,
  UNRECOGNIZED,
} from "../../lib/protocol.ts";
import { listsExactly, replayAppendix } from "./server_appendix.ts";
import { CheckFailure } from "./check.ts";
import { SILENCE, within } from "./wait.ts";
import { firstReady, WAIT_MS } from "./wire.ts";
import { listedNames, type Peer, type ServerCheck } from "./server_peer.ts";

/** How long a played receiver holds its `302` back, in milliseconds. */
const HOLD_MS = 300;

/** The address to reach a loopback server through, so that its own address differs from the client's. */
function aliasOf(hostname: string): string | undefined {
  return hostname === "127.0.0.1" || hostname === "localhost"
    ? "127.0.0.2"
    : undefined;
}

/** Sends a chat line from `from` to `to` and returns the line `to` should get. */
async function sendTo(from: Peer, to: Peer, content: string): Promise<string> {
  await from.la.send(formatTo(to.name, content));
  return formatDelivery({ kind: "from", sender: from.name, content });
}

export const SERVER_HANDOUT_CHECKS: ServerCheck[] = [
  {
    id: "login-101",
    group: "handout",
    source: "User authentication",
    expects:
      "`/login <user> <password>` with a listed user is answered `101 Authentication successful`",
    async run(t) {
      const jacky = await t.connect("jacky");
      await jacky.la.send(formatLogin(jacky.name, jacky.user.password));
      await jacky.la.expect(AUTH_SUCCESSFUL);
    },
  },
  {
    id: "login-102",
    group: "handout",
    source: "User authentication",
    expects: "A wrong password is answered `102 Authentication failed`",
    async run(t) {
      const jacky = await t.connect("jacky");
      await jacky.la.send(formatLogin(jacky.name, `${jacky.user.password}x`));
      await jacky.la.expect(AUTH_FAILED);
    },
  },
  {
    id: "login-again",
    group: "handout",
    source: "User authentication",
    expects:
      "After a failed login the authentication is repeated: the same connection then logs in",
    async run(t) {
      const jacky = await t.connect("jacky");
      await jacky.la.send(formatLogin(jacky.name, `${jacky.user.password}x`));
      await jacky.la.expectAny("an answer to the wrong password");
      await jacky.logIn();
    },
  },
  {
    id: "port",
    group: "handout",
    source: "Establishing another TCP connection",
    expects:
      "`/port N`: the server connects Lb to the client's IP address at port N and answers `201 Build connection successful`; where nothing listens, `202 Build connection failed`",
    async run(t) {
      const bob = await t.login("bob");
      const closed = Deno.listen({
        hostname: bob.la.localAddr.hostname,
        port: 0,
      });
      const deadPort = closed.addr.port;
      closed.close();
      await bob.la.send(formatPort(deadPort));
      await bob.la.expect(BUILD_FAILED);

      // Through 127.0.0.2 the server's own address (127.0.0.2) differs from
      // the client's (127.0.0.1): an Lb sent to the server's own address
      // then misses the client.
      const via = aliasOf(t.address.hostname);
      let note: string | undefined;
      let jacky: Peer;
      try {
        jacky = await t.connect("jacky", { via });
      } catch (error) {
        if (via === undefined) throw error;
        jacky = await t.connect("jacky");
        note =
          "the server does not listen on 127.0.0.2, so its own address could not be told from the client's";
      }
      if (note === undefined && via !== undefined) {
        t.dialog.note(
          jacky.name,
          `connected to ${via}: the server's own address is ${via}, the client's ${jacky.la.localAddr.hostname}`,
        );
      }
      await jacky.logIn();
      const { port, accepted } = jacky.listen();
      const where = `${jacky.la.localAddr.hostname}:${port}`;
      t.dialog.note(jacky.name, `listens for Lb at ${where}`);
      await jacky.la.send(formatPort(port));
      const reply = await jacky.la.expectAny("an answer to /port");
      if (reply !== BUILD_SUCCESSFUL) {
        const came = await within(accepted, 0) === SILENCE
          ? ` (and no connection came to ${where}, the client's address)`
          : "";
        throw new CheckFailure(
          `expected ${jacky.la.theirs(BUILD_SUCCESSFUL)}; came ${
            jacky.la.theirs(reply)
          }${came}`,
          {
            expected: jacky.la.theirs(BUILD_SUCCESSFUL),
            got: jacky.la.theirs(reply) + came,
          },
        );
      }
      await jacky.acceptLb(accepted, 1000);
      return note;
    },
  },
  {
    id: "from-line",
    group: "handout",
    source: "Handling commands: /to",
    expects:
      "`/to <user> <content>`: the receiver gets `/from <sender> <content>` on its Lb",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = await t.join("bob");
      await bob.lb.expect(await sendTo(jacky, bob, "Hello! Nice to meet you!"));
      await jacky.la.expectAny("an answer to /to");
    },
  },
  {
    id: "to-303-304",
    group: "handout",
    source: "Handling commands: /to",
    expects:
      "`/to`: once the receiver has answered `302`, and not before, the sender gets `303 Message delivery successful`; `/to` a user who is not online gets `304 Message delivery failed`",
    async run(t) {
      const jacky = await t.join("jacky");
      await jacky.la.send(formatTo(t.users.stranger().name, "are you there?"));
      await jacky.la.expect(DELIVERY_FAILED);
      const bob = await t.join("bob", { receipts: "hold" });
      await sendTo(jacky, bob, "Hello! Nice to meet you!");
      await bob.lb.expectAny("a chat line for bob");
      await jacky.la.expectSilence(HOLD_MS, "no answer before bob's 302");
      await bob.lb.send(RECEIPT_SUCCESSFUL);
      await jacky.la.expect(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "toall-line",
    group: "handout",
    source: "Handling commands: /toall",
    expects:
      "`/toall <content>`: every other online user, and not the sender, gets `/broadcastfrom <sender> <content>` on Lb",
    async run(t) {
      const jacky = await t.join("jacky");
      await t.ensureAlone(jacky);
      const bob = await t.join("bob");
      const michael = await t.join("michael");
      const content = "How about meeting at 3pm today?";
      await jacky.la.send(formatToAll(content));
      const line = formatDelivery({
        kind: "broadcastfrom",
        sender: jacky.name,
        content,
      });
      await bob.lb.expect(line);
      await michael.lb.expect(line);
      await jacky.la.expectAny("an answer to /toall");
      await jacky.lb.expectSilence(HOLD_MS, "the sender gets no copy");
    },
  },
  {
    id: "toall-303",
    group: "handout",
    source: "Handling commands: /toall",
    expects:
      "Once every receiver has answered `302`, and not before, the sender of `/toall` gets `303 Message delivery successful`",
    async run(t) {
      const jacky = await t.join("jacky");
      await t.ensureAlone(jacky);
      const waiting = [
        await t.join("bob", { receipts: "hold" }),
        await t.join("michael", { receipts: "hold" }),
      ];
      await jacky.la.send(formatToAll("How about meeting at 3pm today?"));
      // The receivers may be served at once or one after the other.
      while (waiting.length > 0) {
        const names = waiting.map((peer) => peer.name).join(" and ");
        const lb = await firstReady(
          waiting.map((peer) => peer.lb),
          WAIT_MS,
          t.signal,
        );
        if (lb === undefined) {
          throw new CheckFailure(`no chat line came to ${names}`, {
            expected: `SERVER(b): a chat line for ${names}`,
            got: "nothing within 5 s",
          });
        }
        const receiver = waiting.splice(
          waiting.findIndex((peer) => peer.lb === lb),
          1,
        )[0];
        await receiver.lb.expectAny(`a chat line for ${receiver.name}`);
        await jacky.la.expectSilence(
          HOLD_MS,
          `no answer before ${names}'s 302`,
        );
        await receiver.lb.send(RECEIPT_SUCCESSFUL);
      }
      await jacky.la.expect(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "list-301",
    group: "handout",
    source: "Handling commands: /list",
    expects:
      "`/list` is answered `301` and the names of all online users, separated by spaces",
    async run(t) {
      const jacky = await t.join("jacky");
      await t.ensureAlone(jacky);
      const bob = await t.join("bob");
      const michael = await t.join("michael");
      const names = [jacky.name, bob.name, michael.name];
      await jacky.la.send(LIST);
      await jacky.la.expectThat(
        (line) => listsExactly(line, names),
        `SERVER(a): ${formatList(names)} (in any order)`,
      );
    },
  },
  {
    id: "exit",
    group: "handout",
    source: "Handling commands: /exit",
    expects:
      "`/exit` is answered `310 Bye bye`; the server then closes the user's links and takes the user off the online list",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = await t.join("bob");
      await jacky.la.send(EXIT);
      await jacky.la.expect(BYE);
      await jacky.la.expectClosed();
      await jacky.lb.expectClosed();
      await bob.la.send(LIST);
      await bob.la.expectThat(
        (line) =>
          statusCode(line) === LIST_CODE &&
          !listedNames(line).includes(jacky.name),
        `SERVER(a): ${LIST_CODE} … without ${jacky.name}`,
      );
    },
  },
  {
    id: "unknown-401",
    group: "handout",
    source: "Dealing with incorrect message format",
    expects:
      "A command in the wrong format is answered `401 Unrecognized message`",
    async run(t) {
      const jacky = await t.join("jacky");
      for (const line of ["/hello", "hello"]) {
        await jacky.la.send(line);
        await jacky.la.expect(UNRECOGNIZED);
      }
    },
  },
  {
    id: "one-at-a-time",
    group: "handout",
    source: "Implementation notes: synchronization",
    expects:
      "Two senders to one receiver at once: the receiver's Lb carries one exchange at a time (the next chat line only after its `302`)",
    async run(t) {
      const bob = await t.join("bob", { receipts: "hold" });
      const jacky = await t.join("jacky");
      const michael = await t.join("michael");
      await Promise.all([
        sendTo(jacky, bob, "Hello! Nice to meet you!"),
        sendTo(michael, bob, "Hi, Bob!"),
      ]);
      await bob.lb.expectAny("the first chat line for bob");
      await bob.lb.expectSilence(
        HOLD_MS,
        "no second chat line before bob's 302",
      );
      await bob.lb.send(RECEIPT_SUCCESSFUL);
      await bob.lb.expectAny("the second chat line for bob");
      await bob.lb.send(RECEIPT_SUCCESSFUL);
      await jacky.la.expectStatus(DELIVERY_SUCCESSFUL);
      await michael.la.expectStatus(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "appendix",
    group: "handout",
    source: "Appendix",
    timeoutMs: 20_000,
    expects:
      "The Appendix's conversation, replayed, gets the Appendix's lines (its `303 Message delivery success` read as `successful`)",
    run: replayAppendix,
  },
];
