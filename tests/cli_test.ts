/**
 * Unit tests for the entry scripts' shared helpers: port arguments and exit
 * codes.
 */

import assert from "node:assert/strict";
import { parseCount, parsePort, parseSeconds } from "../lib/cli.ts";
import { EXIT_FAILURE, EXIT_USAGE, UsageError } from "../lib/errors.ts";

/** Asserts that `parsePort(text, options)` throws a `UsageError`. */
function assertRejected(text: string, options?: { allowZero?: boolean }) {
  assert.throws(
    () => parsePort(text, options),
    (error) => {
      assert.ok(error instanceof UsageError, `not a UsageError: ${error}`);
      assert.equal(error.name, "UsageError");
      assert.ok(
        error.message.includes(JSON.stringify(text).slice(1, -1)),
        `the message names the bad value: ${error.message}`,
      );
      return true;
    },
    JSON.stringify(text),
  );
}

Deno.test("cli: exit codes are 2 for usage and 1 for failures", () => {
  assert.equal(EXIT_USAGE, 2);
  assert.equal(EXIT_FAILURE, 1);
});

Deno.test("parsePort: whole numbers from 1 to 65535", () => {
  assert.equal(parsePort("5000"), 5000);
  assert.equal(parsePort("1"), 1);
  assert.equal(parsePort("30232"), 30232);
  assert.equal(parsePort("65535"), 65535);
});

Deno.test("parsePort: 0 only when allowZero is set", () => {
  assertRejected("0");
  assertRejected("0", { allowZero: false });
  assert.equal(parsePort("0", { allowZero: true }), 0);
  assert.equal(parsePort("5000", { allowZero: true }), 5000);
});

Deno.test("parsePort: out of range or not a whole number is a UsageError", () => {
  for (
    const text of [
      "65536",
      "99999",
      "100000",
      "-1",
      "+80",
      "",
      " ",
      "x",
      "80x",
      "8.0",
      "1e3",
      "0x50",
      " 80",
      "80 ",
      "Infinity",
      "NaN",
    ]
  ) {
    assertRejected(text);
    assertRejected(text, { allowZero: true });
  }
});

Deno.test("parseSeconds: positive decimals in seconds", () => {
  assert.equal(parseSeconds("10", { name: "--reply-timeout" }), 10);
  assert.equal(parseSeconds("0.25", { name: "--reply-timeout" }), 0.25);
  for (const text of ["0", "0.0", "-1", "abc", "", "1e3", " 1", "Infinity"]) {
    assert.throws(
      () => parseSeconds(text, { name: "--reply-timeout" }),
      (error) =>
        error instanceof UsageError &&
        error.message.includes("--reply-timeout"),
      text,
    );
  }
});

Deno.test("parseCount: whole numbers of at least 1", () => {
  assert.equal(parseCount("1", { name: "--max-line" }), 1);
  assert.equal(parseCount("65536", { name: "--max-line" }), 65536);
  for (const text of ["0", "-5", "1.5", "abc", "", "99999999999999999999"]) {
    assert.throws(
      () => parseCount(text, { name: "--max-line" }),
      (error) =>
        error instanceof UsageError && error.message.includes("--max-line"),
      text,
    );
  }
});
