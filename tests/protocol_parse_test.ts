/**
 * Unit tests for `protocol.ts`: the reply lines byte-exact as in the handout,
 * the parsing of every command and its malformed variants (the wire
 * protocol decisions 1, 3, 4 and 8), and the format/parse pairs.
 */

import assert from "node:assert/strict";
import {
  AUTH_FAILED,
  AUTH_SUCCESSFUL,
  BUILD_FAILED,
  BUILD_SUCCESSFUL,
  BYE,
  type Command,
  type Delivery,
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
  parseCommand,
  parseDelivery,
  parseList,
  RECEIPT_SUCCESSFUL,
  statusCode,
  UNRECOGNIZED,
} from "../lib/protocol.ts";

const UNRECOGNIZED_COMMAND: Command = { kind: "unrecognized" };
const BAD_LOGIN: Command = { kind: "bad-login" };

/** Asserts that each line parses to `expected`. */
function assertParses(lines: string[], expected: Command): void {
  for (const line of lines) {
    assert.deepEqual(parseCommand(line), expected, JSON.stringify(line));
  }
}

Deno.test("protocol: status lines are byte-exact as in the handout", () => {
  assert.equal(AUTH_SUCCESSFUL, "101 Authentication successful");
  assert.equal(AUTH_FAILED, "102 Authentication failed");
  assert.equal(BUILD_SUCCESSFUL, "201 Build connection successful");
  assert.equal(BUILD_FAILED, "202 Build connection failed");
  assert.equal(RECEIPT_SUCCESSFUL, "302 Message receipt successful");
  assert.equal(DELIVERY_SUCCESSFUL, "303 Message delivery successful");
  assert.equal(DELIVERY_FAILED, "304 Message delivery failed");
  assert.equal(BYE, "310 Bye bye");
  assert.equal(UNRECOGNIZED, "401 Unrecognized message");
  assert.equal(LIST_CODE, 301);
  assert.equal(LIST, "/list");
  assert.equal(EXIT, "/exit");
});

Deno.test("parseCommand: /login with a user name and a password", () => {
  assert.deepEqual(parseCommand("/login jacky 12345"), {
    kind: "login",
    user: "jacky",
    password: "12345",
  });
  assert.deepEqual(parseCommand("/login bob bob-pass"), {
    kind: "login",
    user: "bob",
    password: "bob-pass",
  });
});

Deno.test("parseCommand: /login without exactly two words is bad-login", () => {
  assertParses([
    "/login",
    "/login ",
    "/login jacky",
    "/login jacky ",
    "/login  jacky 12345",
    "/login jacky  12345",
    "/login jacky 12345 ",
    "/login jacky 12345 extra",
    "/login  ",
  ], BAD_LOGIN);
});

Deno.test("parseCommand: login look-alikes are unrecognized", () => {
  assertParses([
    "/LOGIN jacky 12345",
    "/Login jacky 12345",
    "/loginjacky 12345",
    "/logins jacky 12345",
    "login jacky 12345",
    " /login jacky 12345",
  ], UNRECOGNIZED_COMMAND);
});

Deno.test("parseCommand: /port with a port from 1 to 65535", () => {
  assert.deepEqual(parseCommand("/port 30232"), { kind: "port", port: 30232 });
  assert.deepEqual(parseCommand("/port 1"), { kind: "port", port: 1 });
  assert.deepEqual(parseCommand("/port 65535"), { kind: "port", port: 65535 });
  assert.equal(formatPort(30232), "/port 30232");
  assert.deepEqual(parseCommand(formatPort(5000)), {
    kind: "port",
    port: 5000,
  });
});

Deno.test("parseCommand: a non-numeric or out-of-range port is unrecognized", () => {
  assertParses([
    "/port 0",
    "/port 65536",
    "/port 99999",
    "/port 100000",
    "/port x",
    "/port 12x",
    "/port -1",
    "/port +80",
    "/port 8.0",
    "/port 1e3",
    "/port 0x50",
    "/port ",
    "/port",
    "/port  80",
    "/port 80 ",
    "/port 80 81",
    "/PORT 80",
    "/port\t80",
  ], UNRECOGNIZED_COMMAND);
});

Deno.test("parseCommand: /list and /exit exactly", () => {
  assert.deepEqual(parseCommand("/list"), { kind: "list" });
  assert.deepEqual(parseCommand("/exit"), { kind: "exit" });
});

Deno.test("parseCommand: /list and /exit with extras or other case are unrecognized", () => {
  assertParses([
    "/list extra",
    "/list ",
    " /list",
    "/lists",
    "/LIST",
    "/List",
    "list",
    "/list\r",
    "/exit now",
    "/exit ",
    "/EXIT",
    "/Exit",
    "exit",
  ], UNRECOGNIZED_COMMAND);
});

Deno.test("parseCommand: /to keeps the content byte for byte", () => {
  assert.deepEqual(parseCommand("/to bob Hello! Nice to meet you!"), {
    kind: "to",
    target: "bob",
    content: "Hello! Nice to meet you!",
  });
  assert.deepEqual(parseCommand("/to bob  hi "), {
    kind: "to",
    target: "bob",
    content: " hi ",
  });
  assert.deepEqual(parseCommand("/to bob x"), {
    kind: "to",
    target: "bob",
    content: "x",
  });
  assert.deepEqual(parseCommand("/to bob  "), {
    kind: "to",
    target: "bob",
    content: " ",
  });
  assert.deepEqual(parseCommand("/to michael héllo 🙂\tτέλος"), {
    kind: "to",
    target: "michael",
    content: "héllo 🙂\tτέλος",
  });
  assert.deepEqual(parseCommand("/to jacky /to bob hi"), {
    kind: "to",
    target: "jacky",
    content: "/to bob hi",
  });
});

Deno.test("parseCommand: /to to oneself parses like any other /to", () => {
  assert.deepEqual(parseCommand("/to jacky note to self"), {
    kind: "to",
    target: "jacky",
    content: "note to self",
  });
});

Deno.test("parseCommand: /to without a target or content is unrecognized", () => {
  assertParses([
    "/to",
    "/to ",
    "/to bob",
    "/to bob ",
    "/to  hi",
    "/to  bob hi",
    "/to  ",
    "/TO bob hi",
    "/To bob hi",
    "/tobob hi",
  ], UNRECOGNIZED_COMMAND);
});

Deno.test("parseCommand: /toall keeps the content byte for byte", () => {
  assert.deepEqual(parseCommand("/toall How about meeting at 3pm today?"), {
    kind: "toall",
    content: "How about meeting at 3pm today?",
  });
  assert.deepEqual(parseCommand("/toall  two  spaces "), {
    kind: "toall",
    content: " two  spaces ",
  });
  assert.deepEqual(parseCommand("/toall  "), { kind: "toall", content: " " });
  assert.deepEqual(parseCommand("/toall 🙂"), { kind: "toall", content: "🙂" });
});

Deno.test("parseCommand: /toall without content is unrecognized", () => {
  assertParses([
    "/toall",
    "/toall ",
    "/TOALL hi",
    "/ToAll hi",
    "/toallhi",
    "/toall\thi",
  ], UNRECOGNIZED_COMMAND);
});

Deno.test("parseCommand: anything else is unrecognized", () => {
  assertParses([
    "",
    " ",
    "/",
    "hello",
    "/from bob hi",
    "/broadcastfrom bob hi",
    "302 Message receipt successful",
    "/help",
    "\uFEFF/list",
  ], UNRECOGNIZED_COMMAND);
});

Deno.test("parseCommand: every format helper's output parses back", () => {
  assert.equal(formatLogin("jacky", "12345"), "/login jacky 12345");
  assert.deepEqual(parseCommand(formatLogin("jacky", "12345")), {
    kind: "login",
    user: "jacky",
    password: "12345",
  });
  assert.equal(formatTo("bob", " hi "), "/to bob  hi ");
  assert.deepEqual(parseCommand(formatTo("bob", " hi ")), {
    kind: "to",
    target: "bob",
    content: " hi ",
  });
  assert.equal(formatToAll("OK."), "/toall OK.");
  assert.deepEqual(parseCommand(formatToAll(" OK. ")), {
    kind: "toall",
    content: " OK. ",
  });
});

Deno.test("formatDelivery: /from and /broadcastfrom as in the Appendix", () => {
  assert.equal(
    formatDelivery({ kind: "from", sender: "michael", content: "Hi, Jacky!" }),
    "/from michael Hi, Jacky!",
  );
  assert.equal(
    formatDelivery({ kind: "broadcastfrom", sender: "bob", content: "OK." }),
    "/broadcastfrom bob OK.",
  );
});

Deno.test("parseDelivery: round trips keep the content byte for byte", () => {
  const deliveries: Delivery[] = [
    { kind: "from", sender: "jacky", content: "Hello! Nice to meet you!" },
    { kind: "from", sender: "bob", content: " hi " },
    { kind: "from", sender: "bob", content: "/from x y" },
    { kind: "broadcastfrom", sender: "michael", content: "No problem." },
    { kind: "broadcastfrom", sender: "jacky", content: "  é 🙂  " },
  ];
  for (const delivery of deliveries) {
    assert.deepEqual(parseDelivery(formatDelivery(delivery)), delivery);
  }
});

Deno.test("parseDelivery: lines that are not chat lines give undefined", () => {
  for (
    const line of [
      "",
      "/from",
      "/from ",
      "/from bob",
      "/from  hi",
      "/broadcastfrom",
      "/broadcastfrom michael",
      "/FROM bob hi",
      "/to bob hi",
      "303 Message delivery successful",
    ]
  ) {
    assert.equal(parseDelivery(line), undefined, JSON.stringify(line));
  }
});

Deno.test("formatList and parseList: the Appendix's 301 line", () => {
  assert.equal(
    formatList(["jacky", "bob", "michael"]),
    "301 jacky bob michael",
  );
  assert.deepEqual(parseList("301 jacky bob michael"), [
    "jacky",
    "bob",
    "michael",
  ]);
  assert.equal(formatList(["jacky"]), "301 jacky");
  for (const names of [["jacky"], ["jacky", "bob"], ["a", "b", "c", "d"]]) {
    assert.deepEqual(parseList(formatList(names)), names);
  }
});

Deno.test("parseList: lines that are not a 301 answer give undefined", () => {
  for (
    const line of [
      "",
      "301",
      "3010 jacky",
      "302 Message receipt successful",
      "/list",
      " 301 jacky",
    ]
  ) {
    assert.equal(parseList(line), undefined, JSON.stringify(line));
  }
});

Deno.test("statusCode: the code of every reply line", () => {
  const replies: [string, number][] = [
    [AUTH_SUCCESSFUL, 101],
    [AUTH_FAILED, 102],
    [BUILD_SUCCESSFUL, 201],
    [BUILD_FAILED, 202],
    ["301 jacky bob michael", 301],
    [RECEIPT_SUCCESSFUL, 302],
    [DELIVERY_SUCCESSFUL, 303],
    [DELIVERY_FAILED, 304],
    [BYE, 310],
    [UNRECOGNIZED, 401],
    ["303", 303],
  ];
  for (const [line, code] of replies) {
    assert.equal(statusCode(line), code, line);
  }
});

Deno.test("statusCode: lines without a status code give undefined", () => {
  for (
    const line of [
      "",
      "30",
      "3031 x",
      "303x",
      "abc def",
      " 303 Message delivery successful",
      "/from bob 303 hi",
      "/list",
    ]
  ) {
    assert.equal(statusCode(line), undefined, JSON.stringify(line));
  }
});
