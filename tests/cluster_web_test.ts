/**
 * Browser users on a cluster work across nodes like everyone else: web users
 * on two nodes, and terminal users on a third, exchange `/to` and `/toall`
 * both ways, show in one `/list`, and a duplicate login is refused whichever
 * kind of client and node came first. (WebSocket clients speaking the page's
 * frames; the browser itself is tested against one server in
 * `web_browser_test.ts`.)
 */

import assert from "node:assert/strict";
import { loadUsers } from "../lib/server/mod.ts";
import { startNodes } from "./support/cluster.ts";
import { NatsServer } from "./support/nats.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import { WebPeer } from "./support/web_peer.ts";
import { Status, WirePeer } from "./support/wire_peer.ts";

const USERS = await loadUsers(USERS_FILE);

Deno.test("cluster: web users on two nodes and a terminal user on a third chat as equals", async () => {
  await using nats = await NatsServer.start();
  await using cluster = await startNodes([nats.url], USERS, {
    server: { web: { port: 0, hostname: "127.0.0.1" } },
  });
  const [n1, n2, n3] = cluster.nodes;
  const page = (node: typeof n1) => {
    const port = node.server.web!.port;
    return {
      url: `ws://127.0.0.1:${port}/ws`,
      origin: `http://127.0.0.1:${port}`,
    };
  };
  const opened: { close(): Promise<void> }[] = [];
  try {
    const alice = await WebPeer.connect(page(n1).url, {
      origin: page(n1).origin,
      name: "alice",
    });
    opened.push(alice);
    await alice.login("alice");
    const carol = await WebPeer.connect(page(n2).url, {
      origin: page(n2).origin,
      name: "carol",
    });
    opened.push(carol);
    await carol.login("carol");
    const bob = await WirePeer.connect(n3.address, { name: "bob" });
    opened.push(bob);
    await bob.join("bob", passwordOf("bob"));

    // One list, in login order, on every node and kind of client.
    assert.deepEqual(await bob.list(), ["bob", "alice", "carol"]);
    assert.deepEqual(await alice.list(), ["alice", "carol", "bob"]);

    // A terminal user to a web user on another node, and back.
    await bob.request("/to alice Hello from a terminal", Status.DELIVERY_OK);
    assert.deepEqual(await alice.nextChat(), {
      kind: "from",
      sender: "bob",
      content: "Hello from a terminal",
    });
    await alice.request(
      { op: "to", to: "bob", text: "Hello from a page" },
      Status.DELIVERY_OK,
    );
    await bob.lb.expectLine("/from alice Hello from a page");

    // A web user's /toall reaches the other page and the terminal user.
    await carol.request({ op: "toall", text: "Hi all" }, Status.DELIVERY_OK);
    assert.deepEqual(await alice.nextChat(), {
      kind: "broadcastfrom",
      sender: "carol",
      content: "Hi all",
    });
    await bob.lb.expectLine("/broadcastfrom carol Hi all");

    // A web user online on one node cannot log in again on another, from a
    // page or a terminal.
    const again = await WebPeer.connect(page(n2).url, {
      origin: page(n2).origin,
      name: "alice-again",
    });
    opened.push(again);
    again.send({ op: "login", user: "alice", password: passwordOf("alice") });
    assert.equal((await again.nextReply()).reply, Status.AUTH_FAILED);
    const terminal = await WirePeer.connect(n3.address, { name: "alice-tcp" });
    opened.push(terminal);
    await terminal.send(`/login alice ${passwordOf("alice")}`);
    await terminal.expectLine(Status.AUTH_FAILED);

    // Closing a page takes its user off every node's list.
    await carol.close();
    const deadline = performance.now() + 1_000;
    while ((await bob.list()).includes("carol")) {
      assert.ok(performance.now() < deadline, "carol is still listed");
    }
  } finally {
    await Promise.all(opened.map((peer) => peer.close()));
  }
});
