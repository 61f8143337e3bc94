/**
 * Server checks of this project's decisions where the handout is silent
 * (`docs/protocol.md`): reported as advice. Replies are recognised by their
 * status code here; their wording is the Handout checks' business.
 *
 * @module
 */

import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_SUCCESSFUL,
  DELIVERY_FAILED,
  DELIVERY_SUCCESSFUL,
  formatLogin,
  formatPort,
  formatTo,
  formatToAll,
  hasStatusOf,
  LIST,
  LIST_CODE,
  statusCode,
  UNRECOGNIZED,
} from "../../lib/protocol.ts";
import { DEFAULT_MAX_LINE_BYTES } from "../../lib/net/line_framer.ts";
import { listedNames, type ServerCheck } from "./server_peer.ts";

const LIST_REPLY = `${LIST_CODE} …`;
const encoder = new TextEncoder();

/** `/port` with any text for its number. */
function portLine(text: string): string {
  return formatPort(0).replace(/0$/, text);
}

export const SERVER_DECISION_CHECKS: ServerCheck[] = [
  {
    id: "list-order",
    group: "decisions",
    source: "docs/protocol.md, decision 2",
    expects:
      "`/list` names the requester first, then the others in the order they logged in (the Appendix's `301 jacky bob michael`)",
    async run(t) {
      const bob = await t.join("bob");
      await t.ensureAlone(bob);
      const michael = await t.join("michael");
      const jacky = await t.join("jacky");
      for (
        const [asker, names] of [
          [jacky, [jacky.name, bob.name, michael.name]],
          [michael, [michael.name, bob.name, jacky.name]],
        ] as const
      ) {
        await asker.la.send(LIST);
        await asker.la.expectThat(
          (line) =>
            line.startsWith(`${LIST_CODE}`) &&
            listedNames(line).join(" ") === names.join(" "),
          `SERVER(a): ${LIST_CODE} ${names.join(" ")}`,
        );
      }
    },
  },
  {
    id: "login-twice",
    group: "decisions",
    source: "docs/protocol.md, decision 1",
    expects:
      "A user already online cannot log in a second time (`102`), and the first session goes on",
    async run(t) {
      const jacky = await t.join("jacky");
      const again = await t.connect(jacky.user);
      await again.la.send(formatLogin(jacky.name, jacky.user.password));
      // Refused, whatever the wording or code: that is login-102's business.
      await again.la.expectThat(
        (line) => !hasStatusOf(line, AUTH_SUCCESSFUL),
        `SERVER(a): ${statusCode(AUTH_FAILED)} … (a refusal)`,
      );
      await jacky.la.send(LIST);
      await jacky.la.expectStatus(LIST_REPLY);
    },
  },
  {
    id: "before-login",
    group: "decisions",
    source: "docs/protocol.md, decision 1",
    expects: "Before a successful login, every command but `/login` gets `401`",
    async run(t) {
      const jacky = await t.connect("jacky");
      for (const line of [LIST, formatTo(t.users.stranger().name, "hi")]) {
        await jacky.la.send(line);
        await jacky.la.expectStatus(UNRECOGNIZED);
      }
    },
  },
  {
    id: "port-rules",
    group: "decisions",
    source: "docs/protocol.md, decision 3",
    expects:
      "`/port` with a port that is not a number from 1 to 65535, or a second `/port`, gets `401`",
    async run(t) {
      const jacky = await t.login("jacky");
      for (const port of ["0", "65536", "abc"]) {
        await jacky.la.send(portLine(port));
        await jacky.la.expectStatus(UNRECOGNIZED);
      }
      const { port, accepted } = jacky.listen();
      await jacky.la.send(formatPort(port));
      await jacky.la.expectStatus(BUILD_SUCCESSFUL);
      await jacky.acceptLb(accepted);
      await jacky.la.send(formatPort(port));
      await jacky.la.expectStatus(UNRECOGNIZED);
    },
  },
  {
    id: "content-bytes",
    group: "decisions",
    source: "docs/protocol.md, decision 4",
    expects:
      "The content of `/to` is everything after the separating space, byte for byte: spaces, tabs and any UTF-8 kept",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = await t.join("bob");
      const content = "  two  spaces,\ta tab, café, 你好, 👋  ";
      await jacky.la.send(formatTo(bob.name, content));
      await bob.lb.expectThat(
        (line) => line.startsWith("/") && line.endsWith(` ${content}`),
        `SERVER(b): /from ${jacky.name} ${content}`,
      );
      await jacky.la.expectStatus(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "line-limit",
    group: "decisions",
    source: "docs/protocol.md, decision 8",
    expects:
      "A line of 65,536 bytes is served; a longer one gets `401`, and the connection stays usable",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = await t.join("bob");
      const prefix = formatTo(bob.name, "");
      const longest = "x".repeat(DEFAULT_MAX_LINE_BYTES - prefix.length);
      await jacky.la.send(prefix + longest);
      await bob.lb.expectThat(
        (line) => line.endsWith(` ${longest}`),
        `SERVER(b): /from ${jacky.name} xxx… (all ${longest.length} bytes)`,
      );
      await jacky.la.expectStatus(DELIVERY_SUCCESSFUL);
      await jacky.la.send(`${prefix}${longest}x`);
      await jacky.la.expectStatus(UNRECOGNIZED);
      await jacky.la.send(LIST);
      await jacky.la.expectStatus(LIST_REPLY);
    },
  },
  {
    id: "crlf",
    group: "decisions",
    source: "docs/protocol.md, links and roles",
    expects: "A line ending in `\\r\\n` is taken like one ending in `\\n`",
    async run(t) {
      const jacky = await t.join("jacky");
      await jacky.la.sendBytes(encoder.encode(`${LIST}\r\n`), `${LIST}\r`);
      await jacky.la.expectStatus(LIST_REPLY);
    },
  },
  {
    id: "extra-words",
    group: "decisions",
    source: "docs/protocol.md, decisions 4 and 8",
    expects:
      "Commands are case-sensitive and take no extra words: `/list extra`, `/exit now`, `/LIST`, an empty line, `/to bob` and `/toall` without content get `401`",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = t.users.stranger();
      const lines = [
        `${LIST} extra`,
        "/exit now",
        LIST.toUpperCase(),
        "",
        formatTo(bob.name, "").trimEnd(),
        formatToAll("").trimEnd(),
      ];
      for (const line of lines) {
        await jacky.la.send(line);
        await jacky.la.expectStatus(UNRECOGNIZED);
      }
    },
  },
  {
    id: "toall-alone",
    group: "decisions",
    source: "docs/protocol.md, decision 6",
    expects: "`/toall` with nobody else online is answered `303`",
    async run(t) {
      const jacky = await t.join("jacky");
      await t.ensureAlone(jacky);
      await jacky.la.send(formatToAll("Anybody here?"));
      await jacky.la.expectStatus(DELIVERY_SUCCESSFUL);
    },
  },
  {
    id: "to-self",
    group: "decisions",
    source: "docs/protocol.md, decision 4",
    expects: "`/to` yourself is delivered like any other message (`303`)",
    async run(t) {
      const jacky = await t.join("jacky");
      await jacky.la.send(formatTo(jacky.name, "Note to self"));
      // The answer comes after the delivery: look at it first.
      await jacky.la.expectStatus(DELIVERY_SUCCESSFUL);
      await jacky.lb.expectThat(
        (line) => line.startsWith("/") && line.endsWith(" Note to self"),
        `SERVER(b): /from ${jacky.name} Note to self`,
      );
    },
  },
  {
    id: "receipt-not-302",
    group: "decisions",
    source: "docs/protocol.md, decision 5",
    expects:
      "A receiver that answers anything but `302` gives the sender `304`",
    async run(t) {
      const jacky = await t.join("jacky");
      const bob = await t.join("bob", { receipts: "hold" });
      await jacky.la.send(formatTo(bob.name, "Hello!"));
      await bob.lb.expectAny("a chat line for bob");
      await bob.lb.send("Got it, thanks");
      await jacky.la.expectStatus(DELIVERY_FAILED);
    },
  },
  {
    id: "before-port",
    group: "decisions",
    source: "docs/protocol.md, decision 2",
    expects:
      "Between `101` and `/port`, commands are served, and `/to` that user gets `304` (no Lb yet)",
    async run(t) {
      const jacky = await t.login("jacky");
      await jacky.la.send(LIST);
      await jacky.la.expectStatus(LIST_REPLY);
      const bob = await t.join("bob");
      await bob.la.send(formatTo(jacky.name, "Hi, Jacky!"));
      await bob.la.expectStatus(DELIVERY_FAILED);
    },
  },
];
