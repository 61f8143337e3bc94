import assert from "node:assert/strict";
import { EventLog, formatLogEvent, type LogEvent } from "../lib/server/log.ts";

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

Deno.test("EventLog: at level info every event reaches the sink", () => {
  const seen: LogEvent[] = [];
  const log = new EventLog((event) => seen.push(event));
  assert.equal(log.info, true);
  log.emit({ ...EVENT, level: "info" });
  log.emit(EVENT);
  assert.deepEqual(seen.map((event) => event.level), ["info", "error"]);
});

Deno.test("EventLog: at level error (--quiet) only errors reach the sink", () => {
  const seen: LogEvent[] = [];
  const log = new EventLog((event) => seen.push(event), "error");
  assert.equal(log.info, false, "callers can skip building info events");
  log.emit({ ...EVENT, level: "info" });
  log.emit(EVENT);
  assert.deepEqual(seen, [EVENT]);
});

Deno.test("EventLog: without a sink nothing is kept, and emitting is harmless", () => {
  const log = new EventLog(undefined);
  assert.equal(log.info, false);
  log.emit(EVENT);
  log.internalError(new Error("ignored"));
});

Deno.test("EventLog: an internal error is one error event whose cause is one line", () => {
  const seen: LogEvent[] = [];
  const log = new EventLog((event) => seen.push(event), "error");
  log.internalError(new Error("claim failed\n    at somewhere (file.ts:1:1)"));
  assert.equal(seen.length, 1);
  assert.equal(seen[0].level, "error");
  assert.equal(seen[0].event, "internal-error");
  assert.equal(seen[0].cause, "claim failed");
  assert.ok(!seen[0].message.includes("\n"));
});
