/**
 * `resolveSettings` and `describeSettings`: the defaults the docs give
 * (`docs/protocol.md` decision 3's 5-second connect timeout, decision 5's
 * 10-second reply timeout, decision 8's 65,536-byte line; the 30-second
 * login timeout, the 10,000 connections and the throttle of
 * `docs/reliability.md`), and what an option changes. The options as
 * `server.ts` takes them are in `server_options_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  describeSettings,
  resolveSettings,
  type ServerSettings,
} from "../lib/server/options.ts";

const DEFAULTS: ServerSettings = {
  replyTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  loginTimeoutMs: 30_000,
  maxLineBytes: 65_536,
  maxConnections: 10_000,
  loginThrottle: {
    freeFailures: 3,
    baseDelayMs: 1_000,
    maxDelayMs: 8_000,
    maxAddresses: 100_000,
    forgetAfterMs: 15 * 60_000,
  },
};

Deno.test("options: with none given, every setting has its documented default", () => {
  assert.deepEqual(resolveSettings({}), DEFAULTS);
});

Deno.test("options: each option given replaces its default and nothing else", () => {
  const given: Partial<ServerSettings> = {
    replyTimeoutMs: 300,
    connectTimeoutMs: 200,
    loginTimeoutMs: 100,
    maxLineBytes: 1024,
    maxConnections: 2,
  };
  for (const [key, value] of Object.entries(given)) {
    assert.deepEqual(resolveSettings({ [key]: value }), {
      ...DEFAULTS,
      [key]: value,
    }, key);
  }
});

Deno.test("options: the throttle can be turned off, or given in part with the rest defaulted", () => {
  assert.equal(resolveSettings({ loginThrottle: false }).loginThrottle, false);
  assert.deepEqual(
    resolveSettings({ loginThrottle: { freeFailures: 5, maxDelayMs: 100 } })
      .loginThrottle,
    { ...DEFAULTS.loginThrottle, freeFailures: 5, maxDelayMs: 100 },
  );
});

Deno.test("options: the settings in force are described in one line, in seconds", () => {
  assert.equal(
    describeSettings(resolveSettings({})),
    "reply timeout 10 s, connect timeout 5 s, login timeout 30 s, " +
      "max line 65536 bytes, max connections 10000, " +
      "login throttle after 3 failures, 1 s doubling to 8 s",
  );
  const line = describeSettings(
    resolveSettings({ replyTimeoutMs: 250, loginThrottle: false }),
  );
  assert.match(line, /^reply timeout 0\.25 s, /);
  assert.match(line, /, login throttle off$/);
  assert.ok(!line.includes("\n"));
});
