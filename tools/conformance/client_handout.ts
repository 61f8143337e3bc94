/**
 * Client checks of what the handout's text requires: the prompts, the
 * `/login` and `/port` lines, `102` and `202`, the commands as typed, `302`
 * for chat, chat taken while a command waits, `310`, and jacky's side of the
 * Appendix. The kit plays the server.
 *
 * @module
 */

import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_FAILED,
  BUILD_SUCCESSFUL,
  BYE,
  DELIVERY_SUCCESSFUL,
  EXIT,
  formatDelivery,
  formatList,
  formatLogin,
  formatTo,
  formatToAll,
  LIST,
  parsePortNumber,
  RECEIPT_SUCCESSFUL,
} from "../../lib/protocol.ts";
import { PASSWORD_PROMPT, USER_PROMPT } from "../../lib/client/ui.ts";
import { type Actor, appendixList, appendixSteps } from "./appendix.ts";
import type { Check } from "./check.ts";
import { type ClientCheckContext, USER } from "./fake_server.ts";

/** A check of a client. */
export type ClientCheck = Check<ClientCheckContext>;

const NAMES: Record<Actor, string> = {
  jacky: "jacky",
  bob: "bob",
  michael: "michael",
};

/**
 * Whether `line` has the words of `expected`, however spaced: the exact
 * spelling of a `/login` line is the business of `login-line`.
 */
export function sameWords(line: string, expected: string): boolean {
  return line.trim().split(/\s+/).join(" ") === expected;
}

/** A `/port N` line, N being a port number. */
function isPortLine(line: string): boolean {
  const match = line.match(/^\/port ([0-9]+)$/);
  return match !== null && (parsePortNumber(match[1]) ?? 0) > 0;
}

export const CLIENT_HANDOUT_CHECKS: ClientCheck[] = [
  {
    id: "prompts",
    group: "handout",
    source: "User authentication",
    expects:
      "The client asks `Please input your user name:`, then `Please input your password:`",
    async run(t) {
      const session = t.launch();
      // The handout's client connects, then asks.
      await session.acceptLa();
      await session.expectShown(USER_PROMPT);
      await session.type(USER.name);
      await session.expectShown(PASSWORD_PROMPT);
    },
  },
  {
    id: "login-line",
    group: "handout",
    source: "User authentication",
    expects:
      "It sends the name and password typed as `/login <user> <password>`",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, USER.password);
      await session.acceptLa();
      await session.la.expect(formatLogin(USER.name, USER.password));
    },
  },
  {
    id: "reprompt-102",
    group: "handout",
    source: "User authentication",
    expects:
      "After `102 Authentication failed` the prompts come again, and the new name and password go out in a new `/login`",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, "wrong");
      await session.acceptLa();
      await session.la.expectAny("CLIENT(a): /login …");
      await session.expectShown(USER_PROMPT);
      await session.la.send(AUTH_FAILED);
      await session.expectShown(USER_PROMPT);
      await session.type("bob", "bob123");
      await session.la.expectThat(
        (line) => sameWords(line, formatLogin("bob", "bob123")),
        `CLIENT(a): ${formatLogin("bob", "bob123")}`,
      );
    },
  },
  {
    id: "port-line",
    group: "handout",
    source: "Establishing another TCP connection",
    expects:
      "After `101` it sends `/port N` and takes the server's connection for Lb at port N",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, USER.password);
      await session.acceptLa();
      await session.la.expectAny("CLIENT(a): /login …");
      await session.la.send(AUTH_SUCCESSFUL);
      const line = await session.la.expectThat(
        isPortLine,
        "CLIENT(a): /port N",
      );
      await session.connectLb(Number(line.split(" ")[1]));
      await session.la.send(BUILD_SUCCESSFUL);
      await session.lb.send(
        formatDelivery({ kind: "from", sender: "bob", content: "Lb works" }),
      );
      await session.lb.expectAny("an answer on Lb");
    },
  },
  {
    id: "quits-202",
    group: "handout",
    source: "Establishing another TCP connection",
    expects: "On `202 Build connection failed` it shows the message and quits",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, USER.password);
      await session.acceptLa();
      await session.la.expectAny("CLIENT(a): /login …");
      await session.la.send(AUTH_SUCCESSFUL);
      await session.la.expectAny("CLIENT(a): /port N");
      await session.la.send(BUILD_FAILED);
      await session.expectShown(BUILD_FAILED);
      await session.expectExit(`"${BUILD_FAILED}"`);
    },
  },
  {
    id: "commands",
    group: "handout",
    source: "Handling commands",
    expects:
      "Typed commands go out as typed (`/list`, `/to <user> <content>`, `/toall <content>`), each reply is shown",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      const exchanges: [string, string][] = [
        [LIST, formatList(["jacky", "bob", "michael"])],
        [formatTo("bob", "Hello! Nice to meet you!"), DELIVERY_SUCCESSFUL],
        [formatToAll("How about meeting at 3pm today?"), DELIVERY_SUCCESSFUL],
      ];
      for (const [command, reply] of exchanges) {
        await session.command(command);
        await session.la.send(reply);
        await session.expectShown(reply);
      }
    },
  },
  {
    id: "chat-302",
    group: "handout",
    source: "Handling commands: /to and /toall",
    expects:
      "A `/from` or `/broadcastfrom` line on Lb: the content is shown and `302 Message receipt successful` goes back on Lb",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      for (
        const [kind, sender, content] of [
          ["from", "michael", "Hi, Jacky!"],
          ["broadcastfrom", "bob", "OK."],
        ] as const
      ) {
        await session.lb.send(formatDelivery({ kind, sender, content }));
        await session.lb.expect(RECEIPT_SUCCESSFUL);
        await session.expectShown(content);
      }
    },
  },
  {
    id: "chat-while-waiting",
    group: "handout",
    source: "Establishing another TCP connection (thread Tb)",
    expects:
      "Chat that arrives while a command waits for its reply is answered `302` at once",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      const command = formatTo("bob", "Hello!");
      await session.command(command);
      // The reply is held back until the chat line has been answered.
      await session.lb.send(
        formatDelivery({ kind: "from", sender: "michael", content: "Hi!" }),
      );
      await session.lb.expectStatus(RECEIPT_SUCCESSFUL);
      await session.la.send(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "exit-310",
    group: "handout",
    source: "Handling commands: /exit",
    expects: "`/exit` goes out, and after `310 Bye bye` the client quits",
    async run(t) {
      const session = t.launch();
      await session.logIn();
      await session.command(EXIT);
      await session.la.send(BYE);
      await session.closeLinks();
      await session.expectExit(`"${BYE}"`);
    },
  },
  {
    id: "appendix",
    group: "handout",
    source: "Appendix",
    timeoutMs: 20_000,
    expects:
      "jacky's side of the Appendix, with the kit as the server: every line the client sends is the Appendix's",
    async run(t) {
      const session = t.launch();
      await session.type(USER.name, USER.password);
      await session.acceptLa();
      await session.la.expect(formatLogin(USER.name, USER.password));
      await session.la.send(AUTH_SUCCESSFUL);
      const port = await session.la.expectThat(
        isPortLine,
        "CLIENT(a): /port N",
      );
      await session.connectLb(Number(port.split(" ")[1]));
      await session.la.send(BUILD_SUCCESSFUL);
      for (const step of appendixSteps((actor) => NAMES[actor])) {
        if (step.by === "jacky") {
          await session.command(step.command);
          await session.la.send(step.reply ?? appendixList((a) => NAMES[a]));
        }
        for (const delivery of step.deliveries) {
          if (delivery.to !== "jacky") continue;
          await session.lb.send(delivery.line);
          await session.lb.expect(RECEIPT_SUCCESSFUL);
        }
      }
      await session.command(EXIT);
      await session.la.send(BYE);
    },
  },
];
