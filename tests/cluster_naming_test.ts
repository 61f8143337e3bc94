/**
 * The names a cluster uses in NATS: user keys hold any user name (any text
 * without a space) and give it back, as tokens NATS accepts; node names are
 * checked, since they become subject tokens.
 *
 * Set `FC_SEED` (and `FC_PATH`) to replay a failure fast-check reported.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  defaultNodeName,
  isNodeName,
  nameOfKey,
  nodeSubject,
  userKey,
  USERS_FILE_KEY,
} from "../lib/cluster/naming.ts";

/** fast-check's settings: a fixed seed when `FC_SEED` is set. */
function params(numRuns: number): fc.Parameters<unknown> {
  const seed = Deno.env.get("FC_SEED");
  const path = Deno.env.get("FC_PATH");
  return {
    numRuns,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  };
}

/** One character of a user name: anything but a space. */
const nameUnit = fc.oneof(
  fc.constantFrom("a", "Z", "0", ".", "*", ">", "é", "😀", "\t", "/", "\0"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 })
    .filter((c) => c !== " "),
);
const userName = fc.string({ unit: nameUnit, minLength: 1, maxLength: 16 });

/** What NATS accepts in a key: `u.` then one token of safe characters. */
const KEY_SHAPE = /^u\.[0-9a-f]+$/;

Deno.test("naming: any user name without a space gives a key that gives the name back", () => {
  fc.assert(
    fc.property(userName, (name) => {
      const key = userKey(name);
      assert.match(key, KEY_SHAPE);
      assert.equal(nameOfKey(key), name);
    }),
    params(2_000),
  );
});

Deno.test("naming: two different names never share a key", () => {
  fc.assert(
    fc.property(userName, userName, (a, b) => {
      fc.pre(a !== b);
      assert.notEqual(userKey(a), userKey(b));
    }),
    params(1_000),
  );
});

Deno.test("naming: the users file's key is no user's", () => {
  assert.equal(nameOfKey(USERS_FILE_KEY), undefined);
  // A name that looks like a key, or holds the token separator, stays one token.
  assert.equal(userKey("a.b").split(".").length, 2);
  assert.equal(nameOfKey(userKey("users-file")), "users-file");
});

Deno.test("naming: case matters in user names, so Bob and bob are two keys", () => {
  assert.notEqual(userKey("Bob"), userKey("bob"));
  assert.equal(nameOfKey(userKey("Bob")), "Bob");
});

Deno.test("naming: a key that is not a user's stands for no one", () => {
  for (
    const key of [
      "",
      "u.",
      "u.6",
      "u.626f6",
      "u.zz",
      "u.62 6f",
      "x.626f62",
      "626f62",
      "u.ff", // not UTF-8
      "u.c3", // a character cut short
      "u.eda080", // a lone surrogate, encoded
    ]
  ) {
    assert.equal(nameOfKey(key), undefined, JSON.stringify(key));
  }
});

Deno.test("naming: node names are 1 to 64 letters, digits, _ or -", () => {
  for (const good of ["a", "n1", "node-1", "Node_2-b", "0", "x".repeat(64)]) {
    assert.equal(isNodeName(good), true, good);
  }
  for (
    const bad of [
      "",
      "x".repeat(65),
      "a.b", // a subject token separator
      "a b",
      "a*",
      "a>",
      "é",
      "node\n",
      "a\tb",
    ]
  ) {
    assert.equal(isNodeName(bad), false, JSON.stringify(bad));
  }
});

Deno.test("naming: a valid node name makes subjects of exactly four tokens, one per verb", () => {
  const nodeName = fc.string({
    unit: fc.constantFrom(..."abzAZ09_-"),
    minLength: 1,
    maxLength: 64,
  });
  fc.assert(
    fc.property(nodeName, (node) => {
      assert.ok(isNodeName(node));
      const subjects = (["to", "toall", "ping"] as const).map((verb) =>
        nodeSubject(node, verb)
      );
      for (const subject of subjects) {
        const tokens = subject.split(".");
        assert.equal(tokens.length, 4, subject);
        assert.ok(tokens.includes(node), subject);
      }
      assert.equal(new Set(subjects).size, 3);
    }),
    params(500),
  );
});

Deno.test("naming: two nodes never answer on each other's subjects", () => {
  assert.notEqual(nodeSubject("n1", "to"), nodeSubject("n2", "to"));
  assert.notEqual(nodeSubject("n1", "to"), nodeSubject("n1", "toall"));
});

Deno.test("naming: the default node name is valid and differs from one call to the next", () => {
  const names = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const name = defaultNodeName();
    assert.ok(isNodeName(name), name);
    assert.ok(name.includes(String(Deno.pid)), name);
    names.add(name);
  }
  // 24 random bits each: 50 names collide with a chance of about 1 in 10^5.
  assert.ok(names.size >= 49, `only ${names.size} distinct names`);
});
