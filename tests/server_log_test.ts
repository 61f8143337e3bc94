import assert from "node:assert/strict";
import { formatLogEvent, type LogEvent } from "../lib/server/log.ts";

const EVENT: LogEvent = {
  level: "error",
  event: "delivery-failed",
  message: "jacky -> bob: no receipt within 10000 ms",
  user: "jacky",
  to: "bob",
  cause: "no receipt within 10000 ms",
  ms: 10000,
};
const TIME = new Date("2026-11-25T19:00:00.000Z");

Deno.test("formatLogEvent: text is one timestamped line with the level", () => {
  assert.equal(
    formatLogEvent(EVENT, "text", TIME),
    "2026-11-25T19:00:00.000Z ERROR jacky -> bob: no receipt within 10000 ms",
  );
  assert.equal(
    formatLogEvent({ ...EVENT, level: "info" }, "text", TIME).split(" ")[1],
    "INFO",
  );
});

Deno.test("formatLogEvent: json is one object per line with every field", () => {
  const line = formatLogEvent(EVENT, "json", TIME);
  assert.ok(!line.includes("\n"));
  assert.deepEqual(JSON.parse(line), {
    time: "2026-11-25T19:00:00.000Z",
    ...EVENT,
  });
});
