/**
 * `LocalRegistry`, the online list (decisions 1 and 2 of `docs/protocol.md`):
 * one name at a time, login order, the names for `/list`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Inbox } from "../lib/server/inbox.ts";
import { LocalRegistry } from "../lib/server/registry.ts";
import { FakeOwner } from "./support/server_parts.ts";

function inbox(name: string): Inbox {
  return new Inbox(name, new FakeOwner());
}

/** A registry with `names` claimed in that order. */
async function online(...names: string[]): Promise<LocalRegistry> {
  const registry = new LocalRegistry();
  for (const name of names) {
    assert.equal(await registry.claim(inbox(name)), true, name);
  }
  return registry;
}

function names(registry: LocalRegistry): string[] {
  return [...registry.locals()].map((listed) => listed.name);
}

Deno.test("registry: a name is listed once; a second claim is refused and the first stays", async () => {
  const registry = new LocalRegistry();
  const first = inbox("bob");
  const second = inbox("bob");
  assert.equal(await registry.claim(first), true);
  assert.equal(await registry.claim(second), false);
  assert.equal(registry.local("bob"), first);
  assert.equal(registry.size, 1);
  assert.deepEqual(names(registry), ["bob"]);
});

Deno.test("registry: names are case-sensitive, so Bob and bob are two users", async () => {
  const registry = await online("bob", "Bob");
  assert.equal(registry.size, 2);
});

Deno.test("registry: users are kept in the order they logged in", async () => {
  const registry = await online("bob", "michael", "jacky");
  assert.deepEqual(names(registry), ["bob", "michael", "jacky"]);
  assert.equal(registry.size, 3);
});

Deno.test("registry: namesFor gives the requester first, then the others in login order (the Appendix's 301 jacky bob michael)", async () => {
  const registry = await online("bob", "michael", "jacky");
  assert.deepEqual(registry.namesFor("jacky"), ["jacky", "bob", "michael"]);
  assert.deepEqual(registry.namesFor("michael"), ["michael", "bob", "jacky"]);
  assert.deepEqual(registry.namesFor("bob"), ["bob", "michael", "jacky"]);
});

Deno.test("registry: namesFor with nobody else online is the requester alone", async () => {
  const registry = await online("jacky");
  assert.deepEqual(registry.namesFor("jacky"), ["jacky"]);
});

Deno.test("registry: local finds an online user's inbox, and nobody else's", async () => {
  const registry = new LocalRegistry();
  const bob = inbox("bob");
  await registry.claim(bob);
  assert.equal(registry.local("bob"), bob);
  assert.equal(registry.local("ghost"), undefined);
  assert.equal(registry.local("BOB"), undefined);
});

Deno.test("registry: release takes the user off the list", async () => {
  const registry = new LocalRegistry();
  const bob = inbox("bob");
  await registry.claim(bob);
  await registry.claim(inbox("jacky"));
  registry.release(bob);
  assert.equal(registry.local("bob"), undefined);
  assert.equal(registry.size, 1);
  assert.deepEqual(registry.namesFor("jacky"), ["jacky"]);
  // Releasing again, or someone never listed, changes nothing.
  registry.release(bob);
  registry.release(inbox("ghost"));
  assert.deepEqual(names(registry), ["jacky"]);
});

Deno.test("registry: only the listed inbox releases a name; a refused duplicate's release leaves the first user online", async () => {
  const registry = new LocalRegistry();
  const first = inbox("bob");
  const duplicate = inbox("bob");
  await registry.claim(first);
  assert.equal(await registry.claim(duplicate), false);
  registry.release(duplicate);
  assert.equal(registry.local("bob"), first);
  assert.equal(registry.size, 1);
});

Deno.test("registry: a name released can be claimed again, by a new inbox", async () => {
  const registry = new LocalRegistry();
  const old = inbox("bob");
  await registry.claim(old);
  registry.release(old);
  const again = inbox("bob");
  assert.equal(await registry.claim(again), true);
  assert.equal(registry.local("bob"), again);
  // The old session's late release must not unlist the new one.
  registry.release(old);
  assert.equal(registry.local("bob"), again);
});

Deno.test("registry: logging in again after leaving puts the user at the end of the order", async () => {
  const registry = new LocalRegistry();
  const bob = inbox("bob");
  await registry.claim(bob);
  await registry.claim(inbox("michael"));
  await registry.claim(inbox("jacky"));
  registry.release(bob);
  await registry.claim(inbox("bob"));
  assert.deepEqual(names(registry), ["michael", "jacky", "bob"]);
  assert.deepEqual(registry.namesFor("jacky"), ["jacky", "michael", "bob"]);
});
