/**
 * Integration tests of the wire protocol: the handout plus the numbered
 * decisions 1-8 of the issue, byte-exact, over real loopback sockets.
 */

import assert from "node:assert/strict";
import {
  CONNECT_TIMEOUT_MS,
  expectNothingMoreOnLa,
  expectNothingMoreOnLb,
  IS_EXTERNAL,
  passwordOf,
  REPLY_TIMEOUT_MS,
  type Target,
  waitUntil,
  withTarget,
} from "./support/target.ts";
import { stalledListener } from "./support/faults.ts";
import { writeApart } from "./support/split_writes.ts";
import { Status, type WirePeer } from "./support/wire_peer.ts";

const encoder = new TextEncoder();
const bytes = (...parts: (string | number[])[]): Uint8Array => {
  const chunks = parts.map((p) =>
    typeof p === "string" ? encoder.encode(p) : new Uint8Array(p)
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
};

/** Suffix of tests that need the in-process server (short reply timeout). */
const IN_PROCESS = " [in-process only: short reply timeout]";

/** A loopback port with nothing listening on it. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** Asserts nobody connects to `listener` within `ms`; closes it. */
async function expectNoConnection(
  listener: Deno.TcpListener,
  ms: number,
  what: string,
): Promise<void> {
  const accepted = listener.accept().then((c) => c, () => null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), ms);
  });
  const first = await Promise.race([accepted, timeout]);
  clearTimeout(timer);
  listener.close();
  const conn = await accepted;
  conn?.close();
  assert.equal(first, "timeout", `unexpected connection to ${what}`);
  assert.equal(conn, null, `unexpected connection to ${what}`);
}

/** Waits until `observer`'s `/list` is exactly `names`. */
async function waitForList(observer: WirePeer, names: string[]) {
  let last: string[] = [];
  await waitUntil(async () => {
    last = await observer.list();
    return last.join(" ") === names.join(" ");
  }, `the list is "${names.join(" ")}" (last: "${last.join(" ")}")`);
}

/** Asserts a fresh connection can log in as `name` again. */
async function canLogInAgain(target: Target, name: string): Promise<void> {
  const again = await target.connect({ name: `${name}-again` });
  await again.login(name, passwordOf(name));
  await again.request("/exit", Status.BYE);
}

// ---------------------------------------------------------------------------
// Decision 1: authentication.

Deno.test("decision 1: before login every line but /login gets 401", async () => {
  await withTarget(async (target) => {
    const peer = await target.connect();
    for (
      const line of [
        "/list",
        "/to bob hi",
        "/toall hi",
        "/exit",
        "/port 5000",
        "hello",
        "",
        "/LOGIN jacky 12345",
        "/Login jacky 12345",
      ]
    ) {
      await peer.request(line, Status.UNRECOGNIZED);
    }
    await peer.login("jacky", "12345");
    await peer.request("/list", "301 jacky");
  });
});

Deno.test("decision 1: /login without exactly a name and a password gets 102", async () => {
  await withTarget(async (target) => {
    const peer = await target.connect();
    for (
      const line of ["/login", "/login jacky", "/login jacky 12345 extra"]
    ) {
      await peer.request(line, Status.AUTH_FAILED);
    }
    await peer.login("jacky", "12345");
  });
});

Deno.test("decision 1: a wrong password or an unknown user gets 102, then a retry works", async () => {
  await withTarget(async (target) => {
    const peer = await target.connect();
    for (
      const line of [
        "/login jacky 1234",
        "/login jacky 123456",
        "/login jacky bob-pass",
        "/login nobody 12345",
        "/login Jacky 12345",
      ]
    ) {
      await peer.request(line, Status.AUTH_FAILED);
    }
    await peer.login("jacky", "12345");
    await peer.buildLb();
    await peer.request("/list", "301 jacky");
  });
});

Deno.test("decision 1: a second login of an online user gets 102; the first session is untouched", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const intruder = await target.connect({ name: "intruder" });
    await intruder.request(
      `/login bob ${passwordOf("bob")}`,
      Status.AUTH_FAILED,
    );

    const jacky = await target.join("jacky");
    await jacky.request("/list", "301 jacky bob");
    await jacky.send("/to bob still there?");
    await bob.lb.expectLine("/from jacky still there?");
    await jacky.expectLine(Status.DELIVERY_OK);
    await bob.request("/list", "301 bob jacky");

    // The refused connection is still unauthenticated and may log in as
    // somebody else.
    await intruder.request("/list", Status.UNRECOGNIZED);
    await intruder.login("michael", passwordOf("michael"));
    await bob.request("/list", "301 bob jacky michael");
  });
});

Deno.test("decision 1: a user logged in without /port cannot log in twice either", async () => {
  await withTarget(async (target) => {
    await target.login("bob");
    const second = await target.connect();
    await second.request(`/login bob ${passwordOf("bob")}`, Status.AUTH_FAILED);
  });
});

// ---------------------------------------------------------------------------
// Decision 2: the online list.

Deno.test("decision 2: 101 puts the user on the list before /port", async () => {
  await withTarget(async (target) => {
    const alice = await target.login("alice");
    const bob = await target.join("bob");
    await bob.request("/list", "301 bob alice");
    await alice.buildLb();
    const jacky = await target.join("jacky");
    await jacky.request("/list", "301 jacky alice bob");
  });
});

Deno.test("decision 2: /list is the requester first, then the others in login order", async () => {
  await withTarget(async (target) => {
    const alice = await target.join("alice");
    const bob = await target.join("bob");
    const carol = await target.join("carol");
    const dave = await target.join("dave");
    await alice.request("/list", "301 alice bob carol dave");
    await bob.request("/list", "301 bob alice carol dave");
    await carol.request("/list", "301 carol alice bob dave");
    await dave.request("/list", "301 dave alice bob carol");

    // Leaving and coming back puts bob last.
    await bob.request("/exit", Status.BYE);
    await waitForList(alice, ["alice", "carol", "dave"]);
    const bob2 = await target.join("bob");
    await bob2.request("/list", "301 bob alice carol dave");
    await carol.request("/list", "301 carol alice dave bob");
  });
});

// ---------------------------------------------------------------------------
// Decision 3: /port.

Deno.test("decision 3: /port to a port nobody listens on gets 202", async () => {
  await withTarget(async (target) => {
    const jacky = await target.login("jacky");
    await jacky.request(`/port ${closedPort()}`, Status.BUILD_FAILED);
  });
});

Deno.test({
  name:
    "decision 3: /port to a port that never answers gets 202 after the connect timeout" +
    " [in-process only: short connect timeout]",
  ignore: IS_EXTERNAL,
  fn: async () => {
    const stalled = await stalledListener();
    try {
      await withTarget(async (target) => {
        const jacky = await target.login("jacky");
        const started = performance.now();
        await jacky.request(`/port ${stalled.port}`, Status.BUILD_FAILED);
        const took = performance.now() - started;
        assert.ok(
          took >= CONNECT_TIMEOUT_MS * 0.9,
          `202 after ${took} ms, before the ${CONNECT_TIMEOUT_MS} ms timeout`,
        );
        // The session goes on without Lb.
        await jacky.request("/list", "301 jacky");
      });
    } finally {
      stalled.close();
    }
  },
});

Deno.test("decision 3: /port with a non-numeric or out-of-range port gets 401; the session goes on", async () => {
  await withTarget(async (target) => {
    const jacky = await target.login("jacky");
    for (
      const line of [
        "/port",
        "/port ",
        "/port abc",
        "/port 0",
        "/port 65536",
        "/port 99999",
        "/port -1",
      ]
    ) {
      await jacky.request(line, Status.UNRECOGNIZED);
    }
    await jacky.buildLb();
    await jacky.send("/to jacky ok");
    await jacky.lb.expectLine("/from jacky ok");
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test("decision 3: a second /port gets 401 and the server connects nowhere", async () => {
  await withTarget(async (target) => {
    const jacky = await target.join("jacky");
    const other = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    await jacky.request(`/port ${other.addr.port}`, Status.UNRECOGNIZED);
    await expectNoConnection(other, 200, "the second /port's listener");
    // The first Lb still works.
    await jacky.send("/to jacky still here");
    await jacky.lb.expectLine("/from jacky still here");
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

/** Builds Lb with a decoy listening on the same port of `decoyHost`. */
async function buildLbBesideDecoy(peer: WirePeer, decoyHost: string) {
  const port = peer.listenLb();
  const decoy = Deno.listen({ hostname: decoyHost, port });
  try {
    await peer.request(`/port ${port}`, Status.BUILD_OK);
    await peer.acceptLb();
  } finally {
    await expectNoConnection(decoy, 100, `${decoyHost} port ${port}`);
  }
}

Deno.test("decision 3: /port connects to the address La came from (127.0.0.1, decoy on ::1)", async () => {
  await withTarget(async (target) => {
    const jacky = await target.login("jacky");
    assert.equal(jacky.la.conn.localAddr.hostname, "127.0.0.1");
    await buildLbBesideDecoy(jacky, "::1");
  });
});

Deno.test({
  name:
    "decision 3: /port connects to the address La came from (::1, decoy on 127.0.0.1)" +
    " [in-process only: server on ::1]",
  ignore: IS_EXTERNAL,
  fn: async () => {
    await withTarget(async (target) => {
      const jacky = await target.login("jacky");
      assert.equal(jacky.la.conn.localAddr.hostname, "::1");
      await buildLbBesideDecoy(jacky, "127.0.0.1");
      await jacky.send("/to jacky over v6");
      await jacky.lb.expectLine("/from jacky over v6");
      await jacky.expectLine(Status.DELIVERY_OK);
    }, { hostname: "::1" });
  },
});

// ---------------------------------------------------------------------------
// Decision 4: /to and /toall content, targets.

const CONTENTS = [
  "plain",
  "inner   spaces  and trailing  ",
  "  leading spaces",
  " ",
  "tab\there",
  "你好，世界！中文內容",
  "emoji 🎉🚀👍🏽 and 👨‍👩‍👧 family",
  "mixed ñ é ü ß 日本語 한국어 🙂 ",
  "/to michael looks like a command",
  "302 Message receipt successful",
];

Deno.test("decision 4: /to content is delivered byte-exact (spaces, UTF-8)", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    for (const content of CONTENTS) {
      await jacky.send(`/to bob ${content}`);
      await bob.lb.expectLine(`/from jacky ${content}`);
      await jacky.expectLine(Status.DELIVERY_OK);
    }
  });
});

Deno.test("decision 4: /toall content is delivered byte-exact (spaces, UTF-8)", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const michael = await target.join("michael");
    const jacky = await target.join("jacky");
    for (const content of CONTENTS) {
      await jacky.send(`/toall ${content}`);
      await bob.lb.expectLine(`/broadcastfrom jacky ${content}`);
      await michael.lb.expectLine(`/broadcastfrom jacky ${content}`);
      await jacky.expectLine(Status.DELIVERY_OK);
    }
  });
});

Deno.test("decision 4: /to or /toall without a target or content gets 401", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    for (
      const line of ["/to", "/to ", "/to bob", "/to bob ", "/toall", "/toall "]
    ) {
      await jacky.request(line, Status.UNRECOGNIZED);
    }
    await expectNothingMoreOnLb(bob, jacky);
  });
});

Deno.test("decision 4: /to an unknown, offline or Lb-less user gets 304", async () => {
  await withTarget(async (target) => {
    const alice = await target.login("alice"); // no /port
    const jacky = await target.join("jacky");
    await jacky.request("/to nobody hi", Status.DELIVERY_FAILED);
    await jacky.request("/to michael hi", Status.DELIVERY_FAILED); // offline
    await jacky.request("/to Alice hi", Status.DELIVERY_FAILED); // case
    await jacky.request("/to alice hi", Status.DELIVERY_FAILED); // no Lb
    await expectNothingMoreOnLa(alice);
  });
});

Deno.test("decision 4: /to yourself is delivered like any other /to", async () => {
  await withTarget(async (target) => {
    const jacky = await target.join("jacky");
    await jacky.send("/to jacky note to self");
    await jacky.lb.expectLine("/from jacky note to self");
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

// ---------------------------------------------------------------------------
// Decision 5: the exchange on Lb.

Deno.test("decision 5: a reply other than 302 gives the sender 304", async () => {
  await withTarget(async (target) => {
    const replies = [
      "303 Message delivery successful",
      "302 message receipt successful",
      "302",
      "302 Message receipt successful ",
      "hello",
    ];
    const names = ["bob", "michael", "alice", "carol", "dave"];
    const jacky = await target.join("jacky");
    for (const [i, reply] of replies.entries()) {
      const receiver = await target.join(names[i], { autoReply: false });
      await jacky.send(`/to ${names[i]} hi`);
      await receiver.lb.expectLine("/from jacky hi");
      await receiver.lb.send(reply);
      await jacky.expectLine(Status.DELIVERY_FAILED);
    }
  });
});

Deno.test("decision 5: a 302 reply ending in CRLF counts as 302", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const jacky = await target.join("jacky");
    await jacky.send("/to bob hi");
    await bob.lb.expectLine("/from jacky hi");
    await bob.lb.sendRaw(bytes("302 Message receipt successful\r\n"));
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test({
  name:
    "decision 5: no reply within the reply timeout gives 304 and logs the receiver out" +
    IN_PROCESS,
  ignore: IS_EXTERNAL,
  fn: async () => {
    await withTarget(async (target) => {
      const bob = await target.join("bob", { autoReply: false });
      const jacky = await target.join("jacky");
      const start = performance.now();
      await jacky.send("/to bob are you there?");
      await bob.lb.expectLine("/from jacky are you there?");
      await jacky.expectLine(Status.DELIVERY_FAILED, REPLY_TIMEOUT_MS * 6);
      const elapsed = performance.now() - start;
      assert.ok(
        elapsed >= REPLY_TIMEOUT_MS * 0.9,
        `304 after ${elapsed} ms, before the ${REPLY_TIMEOUT_MS} ms timeout`,
      );
      await bob.la.expectClosed();
      await bob.lb.expectClosed();
      await waitForList(jacky, ["jacky"]);
      await canLogInAgain(target, "bob");
    });
  },
});

Deno.test("decision 5: a receiver whose Lb is closed gives 304 and is logged out", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    await bob.lb.close();
    await jacky.request("/to bob hi", Status.DELIVERY_FAILED);
    await bob.la.expectClosed();
    await waitForList(jacky, ["jacky"]);
    await canLogInAgain(target, "bob");
  });
});

Deno.test("decision 5: a receiver whose Lb breaks mid-exchange gives 304 at once, and is logged out", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const jacky = await target.join("jacky");
    await jacky.send("/to bob hi");
    await bob.lb.expectLine("/from jacky hi");
    const start = performance.now();
    await bob.lb.close();
    await jacky.expectLine(Status.DELIVERY_FAILED);
    if (target.server) {
      const elapsed = performance.now() - start;
      assert.ok(
        elapsed < REPLY_TIMEOUT_MS,
        `304 took ${elapsed} ms: the server waited for the reply timeout`,
      );
    }
    await bob.la.expectClosed();
    await waitForList(jacky, ["jacky"]);
  });
});

// ---------------------------------------------------------------------------
// Decision 6: /toall.

Deno.test("decision 6: /toall reaches every receiver before any has replied, then waits for all", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob", { autoReply: false });
    const michael = await target.join("michael", { autoReply: false });
    const jacky = await target.join("jacky");
    await jacky.send("/toall together");
    // Neither has replied yet, and both have the line: sent concurrently.
    await bob.lb.expectLine("/broadcastfrom jacky together");
    await michael.lb.expectLine("/broadcastfrom jacky together");
    await bob.lb.send(Status.RECEIPT_OK);
    // michael has not replied yet: no answer, once bob's reply is taken.
    if (target.server) {
      const server = target.server;
      await waitUntil(
        () => server.stats().pendingReplies === 1,
        "bob's reply is taken",
      );
    }
    await jacky.la.expectSilence(200);
    await michael.lb.send(Status.RECEIPT_OK);
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test("decision 6: /toall gets 304 if one receiver replies wrongly; the others still get it", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const michael = await target.join("michael", { autoReply: false });
    const alice = await target.join("alice");
    const jacky = await target.join("jacky");
    await jacky.send("/toall hello all");
    await michael.lb.expectLine("/broadcastfrom jacky hello all");
    await michael.lb.send("nope");
    await bob.lb.expectLine("/broadcastfrom jacky hello all");
    await alice.lb.expectLine("/broadcastfrom jacky hello all");
    await jacky.expectLine(Status.DELIVERY_FAILED);
  });
});

Deno.test({
  name:
    "decision 6: a receiver that never replies does not hold up the others; 304" +
    IN_PROCESS,
  ignore: IS_EXTERNAL,
  fn: async () => {
    await withTarget(async (target) => {
      const bob = await target.join("bob");
      const michael = await target.join("michael", { autoReply: false });
      const alice = await target.join("alice");
      const jacky = await target.join("jacky");
      await jacky.send("/toall anyone?");
      await michael.lb.expectLine("/broadcastfrom jacky anyone?");
      // The others get it and their 302 goes out well before the timeout.
      const quick = REPLY_TIMEOUT_MS / 2;
      await bob.lb.expectLine("/broadcastfrom jacky anyone?", quick);
      await alice.lb.expectLine("/broadcastfrom jacky anyone?", quick);
      await jacky.expectLine(Status.DELIVERY_FAILED, REPLY_TIMEOUT_MS * 6);
      await michael.la.expectClosed();
      await waitForList(jacky, ["jacky", "bob", "alice"]);
      // bob and alice are still fine.
      await jacky.send("/toall still here?");
      await bob.lb.expectLine("/broadcastfrom jacky still here?");
      await alice.lb.expectLine("/broadcastfrom jacky still here?");
      await jacky.expectLine(Status.DELIVERY_OK);
    });
  },
});

Deno.test("decision 6: /toall with nobody else online gets 303", async () => {
  await withTarget(async (target) => {
    const jacky = await target.join("jacky");
    await jacky.request("/toall anybody?", Status.DELIVERY_OK);
    await expectNothingMoreOnLb(jacky, jacky);
  });
});

Deno.test("decision 6: /toall skips users without Lb and the sender itself", async () => {
  await withTarget(async (target) => {
    const alice = await target.login("alice"); // no /port
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    await jacky.send("/toall hi");
    await bob.lb.expectLine("/broadcastfrom jacky hi");
    await jacky.expectLine(Status.DELIVERY_OK);
    await expectNothingMoreOnLb(jacky, jacky);
    await expectNothingMoreOnLa(alice);
  });
});

// ---------------------------------------------------------------------------
// Decision 7: leaving.

Deno.test("decision 7: /exit gets 310, then the server closes La and Lb and drops the user", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    await jacky.request("/exit", Status.BYE);
    await jacky.la.expectClosed();
    await jacky.lb.expectClosed();
    await waitForList(bob, ["bob"]);
    await bob.request("/to jacky gone?", Status.DELIVERY_FAILED);
    await canLogInAgain(target, "jacky");
  });
});

Deno.test("decision 7: /exit before /port also gets 310 and drops the user", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.login("jacky");
    await jacky.request("/exit", Status.BYE);
    await jacky.la.expectClosed();
    await waitForList(bob, ["bob"]);
  });
});

/** Runs `leave` with an observer online; checks the user is fully gone. */
async function checkDisconnect(
  leave: (target: Target, observer: WirePeer) => Promise<string | undefined>,
): Promise<void> {
  await withTarget(async (target) => {
    const observer = await target.join("oscar");
    const before = target.server ? target.stats() : undefined;
    const name = await leave(target, observer);
    await waitForList(observer, ["oscar"]);
    if (before) {
      await waitUntil(
        () => JSON.stringify(target.stats()) === JSON.stringify(before),
        `stats() is back to ${JSON.stringify(before)}`,
      );
    }
    if (name) await canLogInAgain(target, name);
  });
}

Deno.test("decision 7: a client that disconnects before logging in leaves no trace", async () => {
  await checkDisconnect(async (target) => {
    const peer = await target.connect();
    await peer.request("/list", Status.UNRECOGNIZED);
    await peer.close();
    return undefined;
  });
});

Deno.test("decision 7: a client that disconnects after 101, before /port, is removed", async () => {
  await checkDisconnect(async (target, observer) => {
    const jacky = await target.login("jacky");
    assert.deepEqual(await observer.list(), ["oscar", "jacky"]);
    await jacky.close();
    return "jacky";
  });
});

Deno.test("decision 7: a client that disconnects right after sending /port is removed", async () => {
  await checkDisconnect(async (target) => {
    const jacky = await target.login("jacky");
    const port = jacky.listenLb();
    await jacky.send(`/port ${port}`);
    await jacky.close();
    return "jacky";
  });
});

Deno.test("decision 7: a client whose La closes after 201 is removed and its Lb closed", async () => {
  await checkDisconnect(async (target) => {
    const jacky = await target.join("jacky");
    await jacky.la.close();
    await jacky.lb.expectClosed();
    return "jacky";
  });
});

Deno.test("decision 7: a client that closes both links after 201 is removed", async () => {
  await checkDisconnect(async (target) => {
    const jacky = await target.join("jacky");
    await jacky.close();
    return "jacky";
  });
});

Deno.test("decision 7: a sender that disconnects while its /to is pending is removed; the receiver goes on", async () => {
  await checkDisconnect(async (target, observer) => {
    const bob = await target.join("bob", { autoReply: false });
    const jacky = await target.join("jacky");
    await jacky.send("/to bob wait for me");
    await bob.lb.expectLine("/from jacky wait for me");
    await jacky.close();
    await bob.lb.send(Status.RECEIPT_OK);
    await waitForList(observer, ["oscar", "bob"]);
    // bob's lock was released: the next message gets through.
    bob.autoReply = true;
    await observer.send("/to bob next");
    await bob.lb.expectLine("/from oscar next");
    await observer.expectLine(Status.DELIVERY_OK);
    await bob.request("/exit", Status.BYE);
    return "jacky";
  });
});

Deno.test("decision 7: a receiver that disconnects while holding a message gives 304 at once", async () => {
  await checkDisconnect(async (target, observer) => {
    const bob = await target.join("bob", { autoReply: false });
    await observer.send("/to bob hi");
    await bob.lb.expectLine("/from oscar hi");
    const start = performance.now();
    await bob.close();
    await observer.expectLine(Status.DELIVERY_FAILED);
    if (target.server) {
      const elapsed = performance.now() - start;
      assert.ok(elapsed < REPLY_TIMEOUT_MS, `304 took ${elapsed} ms`);
    }
    return "bob";
  });
});

Deno.test({
  name:
    "decision 7: when everybody has gone, stats() shows no connection and nobody online" +
    " [in-process only: stats()]",
  ignore: IS_EXTERNAL,
  fn: async () => {
    await withTarget(async (target) => {
      const bob = await target.join("bob");
      const jacky = await target.join("jacky");
      const idle = await target.connect();
      await idle.request("/list", Status.UNRECOGNIZED);
      await waitUntil(() => target.stats().online === 2, "2 online");
      await jacky.request("/exit", Status.BYE);
      await bob.close();
      await idle.close();
      await waitUntil(
        () => target.stats().connections === 0 && target.stats().online === 0,
        `stats() is empty (now ${JSON.stringify(target.stats())})`,
      );
    });
  },
});

// ---------------------------------------------------------------------------
// Decision 8: everything else, framing and encoding.

Deno.test("decision 8: other lines get 401 (case-sensitive, extra words, empty)", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    for (
      const line of [
        "/LIST",
        "/List",
        "/list extra",
        "/exit now",
        "/EXIT",
        "",
        "hello",
        "list",
        " /list",
        "/TO bob hi",
        "/Toall hi",
        "/tobob hi",
        "/toallhi",
        "/from jacky hi",
        "302 Message receipt successful",
        "/login jacky 12345",
      ]
    ) {
      await jacky.request(line, Status.UNRECOGNIZED);
    }
    await jacky.request("/list", "301 jacky bob");
    await expectNothingMoreOnLb(bob, jacky);
  });
});

Deno.test("decision 8: CRLF line ends are accepted and never echoed", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.connect();
    await jacky.sendRaw(bytes("/login jacky 12345\r\n"));
    await jacky.expectLine(Status.AUTH_OK);
    const port = jacky.listenLb();
    await jacky.sendRaw(bytes(`/port ${port}\r\n`));
    await jacky.expectLine(Status.BUILD_OK);
    await jacky.acceptLb();
    await jacky.sendRaw(bytes("/list\r\n"));
    await jacky.expectLine("301 jacky bob");
    await jacky.sendRaw(bytes("/to bob hi there \r\n"));
    await bob.lb.expectLine("/from jacky hi there ");
    await jacky.expectLine(Status.DELIVERY_OK);
    await jacky.sendRaw(bytes("/toall all of you\r\n"));
    await bob.lb.expectLine("/broadcastfrom jacky all of you");
    await jacky.expectLine(Status.DELIVERY_OK);
    await jacky.sendRaw(bytes("/exit\r\n"));
    await jacky.expectLine(Status.BYE);
  });
});

const LIMIT = 65_536;

Deno.test("decision 8: a line of 65,537 bytes or more gets 401 and the connection stays usable", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    const prefix = "/to bob ";
    await jacky.request(
      prefix + "x".repeat(LIMIT + 1 - prefix.length),
      Status.UNRECOGNIZED,
    );
    await jacky.request("/list", "301 jacky bob");
    // 1 MiB, in one line: one 401, nothing delivered.
    await jacky.request(prefix + "y".repeat(1 << 20), Status.UNRECOGNIZED);
    await jacky.request("/list", "301 jacky bob");
    // Sent in many pieces.
    for (let i = 0; i < 10; i++) await jacky.sendRaw(bytes("z".repeat(8000)));
    await jacky.send("z");
    await jacky.expectLine(Status.UNRECOGNIZED);
    await jacky.send("/to bob after the long lines");
    await bob.lb.expectLine("/from jacky after the long lines");
    await jacky.expectLine(Status.DELIVERY_OK);
    await expectNothingMoreOnLb(bob, jacky);
  });
});

Deno.test("decision 8: an over-long /login line before login gets 401, not 102", async () => {
  await withTarget(async (target) => {
    const jacky = await target.connect();
    await jacky.request(
      "/login jacky " + "1".repeat(LIMIT),
      Status.UNRECOGNIZED,
    );
    await jacky.login("jacky", "12345");
  });
});

Deno.test("decision 8: a line of exactly 65,536 bytes is processed normally", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    const prefix = "/to bob ";
    const ascii = "a".repeat(LIMIT - prefix.length);
    assert.equal(encoder.encode(prefix + ascii).length, LIMIT);
    await jacky.send(prefix + ascii);
    await bob.lb.expectLine(`/from jacky ${ascii}`);
    await jacky.expectLine(Status.DELIVERY_OK);
    // Multi-byte content, still exactly 65,536 bytes.
    const unit = "é🎉中"; // 2 + 4 + 3 bytes
    const fill = unit.repeat(Math.floor((LIMIT - prefix.length) / 9));
    const multi = fill + "b".repeat(LIMIT - prefix.length - bytesOf(fill));
    assert.equal(encoder.encode(prefix + multi).length, LIMIT);
    await jacky.send(prefix + multi);
    await bob.lb.expectLine(`/from jacky ${multi}`);
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

function bytesOf(text: string): number {
  return encoder.encode(text).length;
}

Deno.test("decision 8: bytes that are not valid UTF-8 get 401", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.connect();
    await jacky.sendRaw(bytes([0xff, 0x0a]));
    await jacky.expectLine(Status.UNRECOGNIZED);
    await jacky.sendRaw(bytes("/login jacky 1234", [0xb5], "\n"));
    await jacky.expectLine(Status.UNRECOGNIZED);
    await jacky.login("jacky", "12345");
    await jacky.buildLb();
    const bad = [
      [0xc3, 0x28], // bad continuation
      [0xc0, 0xaf], // overlong "/"
      [0xed, 0xa0, 0x80], // UTF-16 surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe4, 0xbd], // truncated at the end of the line
      [0x80], // lone continuation byte
    ];
    for (const seq of bad) {
      await jacky.sendRaw(bytes("/to bob caf", seq, "\n"));
      await jacky.expectLine(Status.UNRECOGNIZED);
      await jacky.sendRaw(bytes("/toall caf", seq, "!\n"));
      await jacky.expectLine(Status.UNRECOGNIZED);
    }
    await expectNothingMoreOnLb(bob, jacky);
    await jacky.request("/list", "301 jacky bob");
  });
});

Deno.test("decision 8: a multi-byte character split across writes is delivered intact", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.join("jacky");
    const content = "café 🎉 中文";
    const line = bytes(`/to bob ${content}\n`);
    // One byte per read on the server's side.
    await writeApart(jacky, Array.from(line, (byte) => Uint8Array.of(byte)));
    await bob.lb.expectLine(`/from jacky ${content}`);
    await jacky.expectLine(Status.DELIVERY_OK);
    // Split exactly inside the emoji, in two reads.
    const whole = bytes("/toall 🎉🎉\n");
    const cut = whole.indexOf(0xf0) + 2;
    await writeApart(jacky, [whole.subarray(0, cut), whole.subarray(cut)]);
    await bob.lb.expectLine("/broadcastfrom jacky 🎉🎉");
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});

Deno.test("decision 8: several lines in one write are each answered, in order", async () => {
  await withTarget(async (target) => {
    const bob = await target.join("bob");
    const jacky = await target.connect({ name: "jacky" });
    const port = jacky.listenLb();
    await jacky.sendRaw(
      bytes(
        "/login jacky 12345\n",
        `/port ${port}\n`,
        "/list\n",
        "/to bob one\n",
        "/bogus\n",
        "/toall two\n",
        "/to nobody three\n",
        "/list\n",
      ),
    );
    await jacky.expectLine(Status.AUTH_OK);
    await jacky.expectLine(Status.BUILD_OK);
    await jacky.acceptLb();
    await jacky.expectLine("301 jacky bob");
    await jacky.expectLine(Status.DELIVERY_OK);
    await jacky.expectLine(Status.UNRECOGNIZED);
    await jacky.expectLine(Status.DELIVERY_OK);
    await jacky.expectLine(Status.DELIVERY_FAILED);
    await jacky.expectLine("301 jacky bob");
    await bob.lb.expectLine("/from jacky one");
    await bob.lb.expectLine("/broadcastfrom jacky two");
  });
});

Deno.test("decision 8: a line split across writes is one line", async () => {
  await withTarget(async (target) => {
    const jacky = await target.join("jacky");
    await writeApart(jacky, [
      bytes("/li"),
      bytes("st"),
      bytes("\n/to jacky a"),
      bytes("b\n"),
    ]);
    await jacky.expectLine("301 jacky");
    await jacky.lb.expectLine("/from jacky ab");
    await jacky.expectLine(Status.DELIVERY_OK);
  });
});
