/**
 * The web port's safety measures without a browser: the same-origin check
 * on the upgrade, and every bound a terminal client has applied to web
 * sockets too (connection cap, login timeout, throttle), plus the two a
 * WebSocket needs of its own (commands sent far ahead, output left unread)
 * and the close at shutdown.
 *
 * @module
 */

import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { textFrame, upgrade, writeAll } from "./support/raw_ws.ts";
import { waitUntil } from "./support/target.ts";
import { type WebPeer, WebTarget } from "./support/web_peer.ts";
import type { LogEvent } from "../lib/server/mod.ts";

const AUTH_FAILED = "102 Authentication failed";

Deno.test("web: the upgrade is refused to a page of another origin", async () => {
  await using target = await WebTarget.start();
  const web = { hostname: "127.0.0.1", port: target.server.web!.port };
  const cases: [string | undefined, number][] = [
    [target.origin, 101],
    [undefined, 101], // no browser page: could claim any origin anyway
    ["http://evil.example", 403],
    [`http://127.0.0.1:${web.port + 1}`, 403],
    [`https://127.0.0.1:${web.port}`, 403],
    [`http://localhost:${web.port}`, 403],
    ["null", 403],
  ];
  for (const [origin, status] of cases) {
    const headers: Record<string, string> = origin === undefined
      ? {}
      : { origin };
    const response = await upgrade(web, "/ws", headers);
    response.conn.close();
    assert.equal(response.status, status, `Origin: ${origin}`);
    if (status === 403) {
      assert.ok(response.headers.get("content-security-policy"));
    }
  }
  // A page served as http://localhost:PORT is its own origin there.
  const local = await upgrade(web, "/ws", {
    host: `localhost:${web.port}`,
    origin: `http://localhost:${web.port}`,
  });
  local.conn.close();
  assert.equal(local.status, 101);
  await waitUntil(() => target.server.stats().connections === 0, "all gone");
  assert.equal(target.server.stats().refusedConnections, 0);
});

Deno.test("web: a flood of sockets stops at the connection cap", async () => {
  await using target = await WebTarget.start({ maxConnections: 10 });
  const tcp = await target.terminal("bob");
  const peers = await Promise.all(
    Array.from({ length: 40 }, () => target.connect()),
  );
  const closed = await Promise.all(
    peers.map((peer) =>
      Promise.race([peer.closed, delay(500).then(() => undefined)])
    ),
  );
  const refused = closed.filter((c) => c !== undefined);
  assert.equal(refused.length, 31, "one TCP client and nine sockets fit");
  for (const close of refused) {
    assert.deepEqual(close, {
      code: 1013,
      reason: "server full: try again later",
    });
  }
  const stats = target.server.stats();
  assert.equal(stats.connections, 10);
  assert.equal(stats.refusedConnections, 31);

  // The admitted ones work; once one leaves, a newcomer fits.
  const admitted = peers.filter((_, i) => closed[i] === undefined);
  await admitted[0].login("jacky");
  await tcp.request("/list", "301 bob jacky");
  await admitted[1].close();
  await waitUntil(() => target.server.stats().connections === 9, "one left");
  const late = await target.connect();
  await late.login("carol");
  assert.equal(late.socket.readyState, WebSocket.OPEN);
});

Deno.test("web: the login timeout applies to a socket", async () => {
  await using target = await WebTarget.start({ loginTimeoutMs: 300 });
  const started = performance.now();
  const idle = await target.connect();
  const close = await idle.expectClosed(2000);
  const waited = performance.now() - started;
  assert.equal(close.code, 1000);
  assert.ok(waited >= 250, `closed after ${waited.toFixed(0)} ms`);
  await waitUntil(
    () => target.server.stats().connections === 0,
    "the session is gone",
  );
});

Deno.test("web: the login throttle counts a page's failures", async () => {
  await using target = await WebTarget.start({
    loginThrottle: { freeFailures: 1, baseDelayMs: 300, maxDelayMs: 300 },
  });
  const page = await target.connect();
  const timed = async (): Promise<number> => {
    const started = performance.now();
    await page.request(
      { op: "login", user: "jacky", password: "x" },
      AUTH_FAILED,
    );
    return performance.now() - started;
  };
  assert.ok(await timed() < 250, "the first failure is answered at once");
  const second = await timed();
  assert.ok(second >= 280, `second failure answered in ${second} ms`);
  // The address is the same for a terminal client from this host.
  const terminal = await target.terminalPeer();
  const started = performance.now();
  await terminal.request("/login bob wrong", AUTH_FAILED);
  assert.ok(performance.now() - started >= 280);
});

Deno.test("web: commands sent far ahead of their replies close the socket", async () => {
  const events: LogEvent[] = [];
  await using target = await WebTarget.start({
    replyTimeoutMs: 2000,
    log: (event) => events.push(event),
  });
  const silent = await target.login("jacky", { autoReceipt: false });
  const eager = await target.login("bob");
  // Each /to waits for jacky's receipt: 16 queue in the session, 16 more
  // wait in the link, and the next closes the socket.
  for (let i = 0; i < 40; i++) {
    eager.send({ op: "to", to: "jacky", text: `#${i}` });
  }
  // The close frame may be lost to the frames still coming: the notice
  // and the server's log say why.
  await eager.expectClosed(1500);
  assert.match(await eager.nextNotice(), /too many commands ahead/);
  await waitUntil(
    () =>
      events.some((e) =>
        e.cause === "too many commands ahead of their replies"
      ),
    "the logout is logged with its cause",
  );
  await silent.nextChat();
});

Deno.test("web: a page that stops reading is dropped", async () => {
  const events: LogEvent[] = [];
  await using target = await WebTarget.start({
    log: (event) => events.push(event),
  });
  const web = { hostname: "127.0.0.1", port: target.server.web!.port };
  // A client that writes its frames but never reads what comes back.
  const raw = await upgrade(web, "/ws", { origin: target.origin });
  assert.equal(raw.status, 101);
  const conn = raw.conn;
  await writeAll(
    conn,
    textFrame('{"op":"login","user":"jacky","password":"12345"}'),
  );
  const bob = await target.terminal("bob");
  await waitUntil(() => target.server.stats().online === 2, "jacky online");
  // It confirms blindly, so that chat keeps coming and piles up unread.
  let confirming = true;
  const receipts = (async () => {
    const receipt = textFrame('{"op":"received"}');
    while (confirming) {
      await writeAll(conn, receipt).catch(() => (confirming = false));
      await delay(1);
    }
  })();
  const text = "z".repeat(60_000);
  let delivered = 0;
  try {
    for (;;) {
      await bob.send(`/to jacky ${text}`);
      const reply = await bob.expectLine(undefined, 2000);
      if (reply !== "303 Message delivery successful") break;
      delivered++;
      assert.ok(delivered < 1000, "still taking chat after 60 MB unread");
    }
  } finally {
    confirming = false;
    await receipts;
    conn.close();
  }
  // Over a megabyte unread on top of what the kernel buffers.
  assert.ok(delivered * 60_000 > 1024 * 1024, `${delivered} delivered`);
  await waitUntil(() => target.server.stats().online === 1, "jacky dropped");
  await bob.request("/list", "301 bob");
  const logout = events.find((e) => e.event === "logout" && e.user === "jacky");
  assert.equal(logout?.cause, "stopped reading what the server sends");
});

Deno.test("web: shutting down tells every page, then closes", async () => {
  const target = await WebTarget.start();
  let peers: WebPeer[];
  try {
    peers = [await target.login("jacky"), await target.connect()];
  } catch (error) {
    await target[Symbol.asyncDispose]();
    throw error;
  }
  await target.server.close();
  for (const peer of peers) {
    assert.deepEqual(await peer.expectClosed(), {
      code: 1001,
      reason: "Server shutting down",
    });
  }
  await target[Symbol.asyncDispose]();
});

Deno.test("web: a page that never answers the close is cut off after a grace", async () => {
  const target = await WebTarget.start();
  const web = { hostname: "127.0.0.1", port: target.server.web!.port };
  const raw = await upgrade(web, "/ws", { origin: target.origin });
  try {
    assert.equal(raw.status, 101);
    await waitUntil(() => target.server.stats().connections === 1, "admitted");
    const started = performance.now();
    await target.server.close();
    const took = performance.now() - started;
    assert.ok(took >= 900 && took < 3000, `shutdown took ${took} ms`);
    // Its connection is gone: reading ends, after what was sent before.
    const buffer = new Uint8Array(4096);
    for (;;) {
      const count = await raw.conn.read(buffer).catch(() => null);
      if (count === null) break;
    }
  } finally {
    raw.conn.close();
    await target[Symbol.asyncDispose]();
  }
});
