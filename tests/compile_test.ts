/**
 * `deno compile` of the server and the client, with their permissions
 * embedded, and the compiled binaries run through the Appendix scenario.
 *
 * Compiling needs Deno's runtime (`denort`) from dl.deno.land. Where it
 * cannot be fetched the test is registered as ignored, with the reason in
 * its name: it is reported, never passed silently. Any other compile
 * failure fails the test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BYE,
  CLIENT_SCRIPT,
  DELIVERED,
  makeScratchDir,
  ProcessScope,
  type Programs,
  removeScratchDir,
  REPO_ROOT,
  SERVER_SCRIPT,
} from "./support/processes.ts";

const COMPILE_TIMEOUT_MS = 120_000;
const TEST_NAME = "compiled binaries run the Appendix scenario";

type Outcome =
  | { kind: "built"; programs: Programs }
  | { kind: "unfetchable"; reason: string }
  | { kind: "failed"; reason: string };

/** The line of `deno compile`'s error output that best names the cause. */
function causeLine(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim()).filter(Boolean);
  const line = lines.find((l) => /error sending request|dns error/i.test(l)) ??
    lines.find((l) => l.startsWith("error:")) ?? lines[0] ??
    "no error output";
  return line.replace(/^\d+:\s*/, "");
}

async function compileOne(
  script: string,
  permissions: string[],
  output: string,
): Promise<Outcome | undefined> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, COMPILE_TIMEOUT_MS);
  try {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["compile", ...permissions, "--output", output, script],
      cwd: REPO_ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: controller.signal,
    }).output();
    if (result.success) return undefined;
    if (timedOut) {
      return {
        kind: "unfetchable",
        reason: `deno compile did not finish within ${
          COMPILE_TIMEOUT_MS / 1000
        } s`,
      };
    }
    const stderr = new TextDecoder().decode(result.stderr);
    const reason = causeLine(stderr);
    if (/dl\.deno\.land|denort|error sending request|dns error/i.test(stderr)) {
      return {
        kind: "unfetchable",
        reason: `deno compile could not fetch the Deno runtime: ${reason}`,
      };
    }
    return { kind: "failed", reason: `deno compile failed: ${stderr}` };
  } finally {
    clearTimeout(timer);
  }
}

async function compileBoth(dir: string): Promise<Outcome> {
  const server = join(dir, "server");
  const client = join(dir, "client");
  const serverFailure = await compileOne(
    SERVER_SCRIPT,
    ["--allow-net", "--allow-read"],
    server,
  );
  if (serverFailure) return serverFailure;
  const clientFailure = await compileOne(
    CLIENT_SCRIPT,
    ["--allow-net"],
    client,
  );
  if (clientFailure) return clientFailure;
  return { kind: "built", programs: { server: [server], client: [client] } };
}

const outputDir = await makeScratchDir("im_compile_");
let outcome: Outcome;
try {
  outcome = await compileBoth(outputDir);
} catch (error) {
  outcome = { kind: "failed", reason: `deno compile did not run: ${error}` };
}
if (outcome.kind !== "built") {
  await removeScratchDir(outputDir);
} else {
  // In case the test is filtered out, the binaries still go.
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(outputDir, { recursive: true });
    } catch {
      // Already removed by the test.
    }
  });
}

/** The Appendix, shortened: bob and michael online, jacky chats and leaves. */
async function appendixScenario(programs: Programs): Promise<void> {
  await using scope = new ProcessScope(programs);
  const server = await scope.startServer();
  const bob = scope.startClient(server.port, "bob");
  const michael = scope.startClient(server.port, "michael");
  const jacky = scope.startClient(server.port, "jacky");
  await bob.login("bob");
  await michael.login("michael");
  await jacky.login("jacky");

  assert.equal(await jacky.command("/list", "301"), "301 jacky bob michael");

  await jacky.writeLine("/to bob Hello! Nice to meet you!");
  await bob.waitForLine("/from jacky Hello! Nice to meet you!");
  assert.equal(await jacky.waitForLine(/^30\d /), DELIVERED);

  await michael.writeLine("/to jacky Hi, Jacky!");
  await jacky.waitForLine("/from michael Hi, Jacky!");
  assert.equal(await michael.waitForLine(/^30\d /), DELIVERED);

  await jacky.writeLine("/toall How about meeting at 3pm today?");
  await bob.waitForLine("/broadcastfrom jacky How about meeting at 3pm today?");
  await michael.waitForLine(
    "/broadcastfrom jacky How about meeting at 3pm today?",
  );
  assert.equal(await jacky.waitForLine(/^30\d /), DELIVERED);

  assert.equal(await jacky.command("/exit", "310"), BYE);
  assert.equal((await jacky.waitForExit()).code, 0, jacky.report());
  assert.equal(await bob.command("/list", "301"), "301 bob michael");
}

switch (outcome.kind) {
  case "built": {
    const { programs } = outcome;
    Deno.test(TEST_NAME, async () => {
      try {
        await appendixScenario(programs);
      } finally {
        await removeScratchDir(outputDir);
      }
    });
    break;
  }
  case "unfetchable":
    Deno.test({
      name: `${TEST_NAME} (ignored: ${outcome.reason})`,
      ignore: true,
      fn() {},
    });
    break;
  case "failed": {
    const { reason } = outcome;
    Deno.test(TEST_NAME, () => {
      assert.fail(reason);
    });
    break;
  }
}
