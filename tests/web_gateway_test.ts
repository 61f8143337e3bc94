/**
 * The web port without a browser: what it serves, and browser users as
 * sessions like any other, over the frames of `docs/web.md` (written out
 * here from the document). Terminal users are wire peers over real TCP.
 *
 * @module
 */

import assert from "node:assert/strict";
import { waitUntil } from "./support/target.ts";
import { WebTarget } from "./support/web_peer.ts";

const OK = "303 Message delivery successful";
const FAILED = "304 Message delivery failed";
const UNRECOGNIZED = "401 Unrecognized message";
const AUTH_FAILED = "102 Authentication failed";

Deno.test("web: the page, its assets, and 404 for anything else", async () => {
  await using target = await WebTarget.start();
  const base = target.origin;
  const expected: [string, RegExp][] = [
    ["/", /^text\/html/],
    ["/app.js", /^text\/javascript/],
    ["/style.css", /^text\/css/],
    ["/icon.svg", /^image\/svg\+xml/],
  ];
  for (const [path, type] of expected) {
    const response = await fetch(base + path);
    const body = await response.text();
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get("content-type") ?? "", type, path);
    assert.ok(body.length > 0, path);
    const policy = response.headers.get("content-security-policy") ?? "";
    for (
      const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
      ]
    ) {
      assert.ok(policy.includes(directive), `${path}: CSP lacks ${directive}`);
    }
    assert.ok(!policy.includes("unsafe"), `${path}: ${policy}`);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
  }

  // No inline script, handler or style anywhere in the page.
  const page = await (await fetch(base + "/")).text();
  assert.deepEqual(
    [...page.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]),
    ['<script type="module" src="/app.js">'],
  );
  assert.doesNotMatch(page, /\son[a-z]+\s*=/i);
  assert.doesNotMatch(page, /\sstyle\s*=/i);
  assert.doesNotMatch(page, /<style/i);

  const head = await fetch(base + "/", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const post = await fetch(base + "/", { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  await post.body?.cancel();

  for (
    const path of [
      "/users.txt",
      "/index.html",
      "/%2e%2e/users.txt",
      "/..%2fusers.txt",
      "/tests/fixtures/users.txt",
      "/lib/web/static/app.js",
      "/static/app.js",
      "/app.js/",
      "/favicon.ico",
    ]
  ) {
    const response = await fetch(base + path);
    const body = await response.text();
    assert.equal(response.status, 404, path);
    assert.ok(!body.includes("12345"), `${path} leaked a password`);
  }
  const plain = await fetch(base + "/ws");
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
});

Deno.test("web: browser and terminal users chat as equals", async () => {
  await using target = await WebTarget.start();
  const jacky = await target.login("jacky");
  assert.deepEqual(await jacky.hello(), { maxLineBytes: 65536 });
  const bob = await target.terminal("bob");
  const michael = await target.login("michael");

  assert.deepEqual(await jacky.list(), ["jacky", "bob", "michael"]);
  assert.deepEqual(await michael.list(), ["michael", "jacky", "bob"]);
  await bob.request("/list", "301 bob jacky michael");

  // Web to terminal: byte for byte, spaces and all.
  const content = "Hello!  Nice to meet you, 你好 ";
  await jacky.request({ op: "to", to: "bob", text: content }, OK);
  await bob.lb.expectLine(`/from jacky ${content}`);

  // Terminal to web: the page's receipt is what makes it 303.
  await bob.request("/to jacky Jacky, nice to meet you too!", OK);
  assert.deepEqual(await jacky.nextChat(), {
    kind: "from",
    sender: "bob",
    content: "Jacky, nice to meet you too!",
  });

  // Web to web.
  await jacky.request({ op: "to", to: "michael", text: "Hi, Michael!" }, OK);
  assert.deepEqual(await michael.nextChat(), {
    kind: "from",
    sender: "jacky",
    content: "Hi, Michael!",
  });

  // A broadcast from the web reaches both kinds, and not its sender.
  await michael.request({ op: "toall", text: "No problem." }, OK);
  await bob.lb.expectLine("/broadcastfrom michael No problem.");
  assert.deepEqual(await jacky.nextChat(), {
    kind: "broadcastfrom",
    sender: "michael",
    content: "No problem.",
  });
  assert.equal(michael.pending("chat"), 0);

  // /to someone offline.
  await jacky.request({ op: "to", to: "alice", text: "there?" }, FAILED);

  // /exit: 310, then the socket closes normally and the name is gone.
  await jacky.request({ op: "exit" }, "310 Bye bye");
  assert.equal((await jacky.expectClosed()).code, 1000);
  await bob.request("/list", "301 bob michael");
});

Deno.test("web: one login per name, whichever kind came first", async () => {
  await using target = await WebTarget.start({ loginThrottle: false });
  await target.login("jacky");
  const second = await target.terminal("bob");
  const terminal = await target.terminalPeer("jacky");
  await terminal.request("/login jacky 12345", AUTH_FAILED);
  const web = await target.connect();
  await web.request(
    { op: "login", user: "bob", password: "bob-pass" },
    AUTH_FAILED,
  );
  // Wrong password: 102, and the socket stays for another try.
  await web.request(
    { op: "login", user: "carol", password: "nope" },
    AUTH_FAILED,
  );
  await web.login("carol");
  await second.request("/list", "301 bob jacky carol");
  // Logged in, /login is no command; and a link that carries chat has no /port.
  await web.request(
    { op: "login", user: "carol", password: "carol02" },
    UNRECOGNIZED,
  );
  web.send({ op: "port", port: 5000 });
  assert.match(await web.nextNotice(), /unknown op "port"/);
  assert.equal((await web.nextReply()).reply, UNRECOGNIZED);
});

Deno.test("web: closing the socket takes the user off the list at once", async () => {
  await using target = await WebTarget.start();
  const bob = await target.terminal("bob");
  const jacky = await target.login("jacky");
  await bob.request("/list", "301 bob jacky");
  await jacky.close();
  await waitUntil(
    () => target.server.stats().online === 1,
    "jacky is off the list",
    1000,
  );
  await bob.request("/list", "301 bob");
  await bob.request("/to jacky still there?", FAILED);
});

Deno.test("web: frames that are no command get a notice and 401, in order", async () => {
  await using target = await WebTarget.start();
  const jacky = await target.login("jacky");
  const refusals: [string | Uint8Array, RegExp][] = [
    ["garbage", /one JSON object/],
    ["[1,2]", /one JSON object/],
    ['{"op":"shout","text":"hi"}', /unknown op "shout"/],
    ['{"text":"hi"}', /unknown op/],
    ['{"op":"to","to":"bob"}', /needs "to" and "text"/],
    ['{"op":"toall","text":7}', /needs "text"/],
    ['{"op":"to","to":"jacky","text":"a\\nb"}', /newline/],
    [new Uint8Array([0x7b, 0x7d]), /binary/],
  ];
  for (const [frame] of refusals) jacky.socket.send(frame);
  jacky.send({ op: "list" });
  for (const [frame, why] of refusals) {
    assert.match(await jacky.nextNotice(), why, String(frame));
    assert.equal((await jacky.nextReply()).reply, UNRECOGNIZED, String(frame));
  }
  assert.deepEqual((await jacky.nextReply()).names, ["jacky"]);
  // A stray receipt answers nothing and costs no reply.
  jacky.send({ op: "received" });
  assert.deepEqual(await jacky.list(), ["jacky"]);
  assert.equal(jacky.socket.readyState, WebSocket.OPEN);
});

Deno.test("web: a line over the limit is refused and the socket stays", async () => {
  await using target = await WebTarget.start();
  const jacky = await target.login("jacky");
  const bob = await target.terminal("bob");
  const limit = 65536;
  const prefix = "/to bob ";

  // Exactly at the limit: delivered whole.
  const fits = "x".repeat(limit - prefix.length);
  await jacky.request({ op: "to", to: "bob", text: fits }, OK);
  await bob.lb.expectLine(`/from jacky ${fits}`);

  // One byte over, counted in bytes: "é" is two.
  const over = "é".repeat((limit - prefix.length) / 2) + "!";
  jacky.send({ op: "to", to: "bob", text: over });
  assert.match(
    await jacky.nextNotice(),
    /a line of 65537 bytes is over the limit of 65536 bytes/,
  );
  assert.equal((await jacky.nextReply()).reply, UNRECOGNIZED);

  // A frame far over: refused before it is read.
  jacky.send({ op: "toall", text: "y".repeat(400_000) });
  assert.match(await jacky.nextNotice(), /over the limit of 65536 bytes/);
  assert.equal((await jacky.nextReply()).reply, UNRECOGNIZED);
  assert.deepEqual(await jacky.list(), ["jacky", "bob"]);
  await bob.la.expectSilence(100);
  assert.equal(bob.lb.pending, 0);
});

Deno.test("web: a page that never confirms gives the sender 304 in time", async () => {
  await using target = await WebTarget.start();
  const jacky = await target.login("jacky", { autoReceipt: false });
  const bob = await target.terminal("bob");
  const michael = await target.login("michael");

  const started = performance.now();
  await bob.send("/to jacky are you there?");
  assert.deepEqual(await jacky.nextChat(), {
    kind: "from",
    sender: "bob",
    content: "are you there?",
  });
  await bob.expectLine(FAILED, 2000);
  const waited = performance.now() - started;
  assert.ok(waited >= 450, `304 after ${waited.toFixed(0)} ms`);
  // As with a silent Lb, the receiver is logged out.
  assert.equal((await jacky.expectClosed()).code, 1000);
  assert.deepEqual(await michael.list(), ["michael", "bob"]);

  // Between two pages the same.
  const alice = await target.login("alice", { autoReceipt: false });
  michael.send({ op: "to", to: "alice", text: "hello?" });
  await alice.nextChat();
  assert.equal((await michael.nextReply(2000)).reply, FAILED);
  await alice.expectClosed();
});
