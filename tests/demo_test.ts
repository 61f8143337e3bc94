/**
 * `deno task demo` shows the Appendix conversation: every line each user's
 * client exchanged on La and Lb, in the Appendix's notation and order.
 */

import assert from "node:assert/strict";
import { runDemo } from "../tools/demo.ts";
import { assertAppendixTrace } from "./support/appendix_trace.ts";

Deno.test("demo: each user's lines are the Appendix's, in its notation", async () => {
  const printed: string[] = [];
  const code = await runDemo({
    speed: 50,
    print: (line) => printed.push(line),
  });
  assert.equal(code, 0, printed.join("\n"));
  assertAppendixTrace(printed);
});
