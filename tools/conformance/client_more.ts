/**
 * Client checks beyond the handout's text: this project's decisions (a
 * client liberal in what it accepts, lines typed ahead kept in order), as
 * advice, and the handout's abnormal cases (a server that dies, no server,
 * input that ends, a huge or broken chat line, lines cut up or run
 * together).
 *
 * @module
 */

import { delay } from "../../lib/async/delay.ts";
import {
  AUTH_SUCCESSFUL,
  BYE,
  DELIVERY_SUCCESSFUL,
  EXIT,
  formatDelivery,
  formatList,
  formatLogin,
  formatTo,
  LIST,
  RECEIPT_SUCCESSFUL,
} from "../../lib/protocol.ts";
import { CheckFailure } from "./check.ts";
import { type ClientCheck, sameWords } from "./client_handout.ts";
import { USER } from "./fake_server.ts";
import { CLOSED, WAIT_MS } from "./wire.ts";

const encoder = new TextEncoder();
/** Pause between two pieces of one line, so that they travel apart. */
const SEGMENT_GAP_MS = 100;

/** How another server refuses a login. */
const OTHER_REFUSALS = [
  "401 Authentication failed",
  "102 Authentication Failed",
  "103 You are already logged in",
];

function chat(sender: string, content: string): string {
  return formatDelivery({ kind: "from", sender, content });
}

export const CLIENT_DECISION_CHECKS: ClientCheck[] = [
  {
    id: "liberal-login",
    group: "decisions",
    source: "docs/protocol.md, the client's side of it",
    expects:
      "Any answer to `/login` but `101` (another server's `401 Authentication failed`, `102 Authentication Failed`, `103 You are already logged in`) is shown, and the login is asked again",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, "wrong");
      await session.acceptLa();
      for (const [index, refusal] of OTHER_REFUSALS.entries()) {
        await session.la.expectAny("CLIENT(a): /login …");
        await session.la.send(refusal);
        await session.expectShown(refusal);
        const password = index === OTHER_REFUSALS.length - 1
          ? USER.password
          : `wrong${index}`;
        await session.type(USER.name, password);
      }
      const login = formatLogin(USER.name, USER.password);
      await session.la.expectThat(
        (line) => sameWords(line, login),
        `CLIENT(a): ${login}`,
      );
      await session.la.send(AUTH_SUCCESSFUL);
      await session.expectShown(AUTH_SUCCESSFUL);
    },
  },
  {
    id: "unknown-lines",
    group: "decisions",
    source: "docs/protocol.md, the client's side of it",
    expects:
      "A line it cannot place (an unknown reply on La, a stray line on Lb) is not fatal: a stray line is shown, and the client goes on",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      await session.command(LIST);
      await session.la.send("999 Something new");
      await session.lb.send("Server maintenance at noon");
      await session.expectShown("Server maintenance at noon");
      session.expectRunning("lines it could not place");
      await session.lb.send(chat("bob", "Still there?"));
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
    },
  },
  {
    id: "typed-ahead",
    group: "decisions",
    source: "docs/protocol.md, the client's side of it",
    expects:
      "Lines typed before the reply to the previous one wait for it: each command goes out after the last reply, none is lost",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      const commands = [LIST, formatTo("bob", "one"), formatTo("bob", "two")];
      await session.type(...commands);
      await session.la.expect(commands[0]);
      await session.la.expectSilence(300, "no command before the reply");
      await session.la.send(formatList(["jacky", "bob"]));
      await session.la.expect(commands[1]);
      await session.la.expectSilence(300, "no command before the reply");
      await session.la.send(DELIVERY_SUCCESSFUL);
      await session.la.expect(commands[2]);
    },
  },
];

export const CLIENT_ROBUSTNESS_CHECKS: ClientCheck[] = [
  {
    id: "server-dies-login",
    group: "robustness",
    source: "Implementation notes 4; Program testing",
    expects:
      "The server closes La instead of answering `/login`: the client quits within 5 s, without a stack trace",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, USER.password);
      await session.acceptLa();
      await session.la.expectAny("CLIENT(a): /login …");
      await session.closeLinks();
      await session.expectExit("the server closed La");
      session.expectNoTraceback();
    },
  },
  {
    id: "server-dies-idle",
    group: "robustness",
    source: "Implementation notes 4; Program testing",
    expects:
      "The server's links close while the client waits for the user: it quits within 5 s, without a stack trace",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      await session.closeLinks();
      await session.expectExit("the server closed both links");
      session.expectNoTraceback();
    },
  },
  {
    id: "server-dies-waiting",
    group: "robustness",
    source: "Implementation notes 4; Program testing",
    expects:
      "The server's links close while the client waits for a reply: it quits within 5 s, without a stack trace",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      await session.command(LIST);
      await session.closeLinks();
      await session.expectExit("the server closed both links");
      session.expectNoTraceback();
    },
  },
  {
    id: "no-server",
    group: "robustness",
    source: "Program testing",
    timeoutMs: (limits) => limits.startupMs + 5_000,
    expects:
      "With no server at the address, the client prints an error (no stack trace) and exits with a code other than 0",
    async run(t) {
      const session = t.launch({ listen: false });
      t.startClock();
      await session.type(USER.name, USER.password);
      const status = await session.expectExit(
        "finding no server",
        t.startupMs,
      );
      session.expectNoTraceback();
      if (status.success) {
        throw new CheckFailure("the client exited with code 0 after an error", {
          expected: "an exit code other than 0",
          got: "exit code 0",
        });
      }
    },
  },
  {
    id: "end-of-input",
    group: "robustness",
    source: "Program testing",
    expects:
      "When its standard input ends (Ctrl-D) after login, the client quits within 5 s, without a stack trace",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      await session.endInput();
      // A client that says goodbye on its way out gets its answer; La
      // closes when one that does not quits.
      const exited = session.expectExit("its input ended");
      exited.catch(() => {});
      if (await session.la.read(WAIT_MS) === EXIT) {
        await session.la.send(BYE);
        await session.closeLinks();
      }
      await exited;
      session.expectNoTraceback();
    },
  },
  {
    id: "long-chat-line",
    group: "robustness",
    source: "Implementation notes 4",
    expects:
      "A chat line of 100,000 bytes is shown whole and answered `302`, and the client goes on",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      // Two-byte characters, so that any cut of the line is likely inside one.
      const content = `x${"é".repeat(50_000)}`;
      await session.lb.send(chat("bob", content));
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
      await session.expectShown(content);
      await session.lb.send(chat("bob", "short"));
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
    },
  },
  {
    id: "invalid-utf8-chat",
    group: "robustness",
    source: "Implementation notes 4",
    expects:
      "A chat line that is not valid UTF-8 does not stop the client: the next chat line is answered `302`",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      const line = chat("bob", "caf");
      const bytes = new Uint8Array([...encoder.encode(line), 0xff, 0x0a]);
      await session.lb.sendBytes(bytes, `${line}\\xff`);
      // It may answer that line or not; the next one it must.
      const answered = await session.lb.read(1000);
      if (answered === CLOSED) {
        throw new CheckFailure("the client closed Lb", {
          expected: `CLIENT(b): ${RECEIPT_SUCCESSFUL}, or nothing`,
          got: "Lb closed",
        });
      }
      await session.lb.send(chat("bob", "café"));
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
      session.expectRunning("a chat line with invalid UTF-8");
    },
  },
  {
    id: "split-chat",
    group: "robustness",
    source: "Implementation notes 4",
    expects:
      "A chat line cut across TCP segments is shown whole, and two chat lines in one segment are each answered `302` once",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      const line = chat("bob", "Hello in two pieces");
      await session.lb.sendBytes(
        encoder.encode(line.slice(0, 12)),
        `${line.slice(0, 12)} (first piece)`,
      );
      await delay(SEGMENT_GAP_MS, { signal: t.signal });
      await session.lb.sendBytes(
        encoder.encode(`${line.slice(12)}\n`),
        `${line.slice(12)} (second piece)`,
      );
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
      await session.expectShown("Hello in two pieces");
      const two = `${chat("bob", "one")}\n${chat("michael", "two")}\n`;
      await session.lb.sendBytes(encoder.encode(two), two.trimEnd());
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
      await session.lb.expectSilence(300, "one answer per chat line");
    },
  },
];
