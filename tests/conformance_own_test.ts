/**
 * This project's own server and client pass every check of the conformance
 * kit, in every group: the server started by the kit, and already running
 * (`--target`, where the checks that must start it are skipped, saying so);
 * the client started by the kit against its fake server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { SERVER_CHECKS } from "../tools/conformance/server_checks.ts";
import { CLIENT_CHECKS } from "../tools/conformance/client_checks.ts";
import { kitUsersFile } from "../tools/conformance/users.ts";
import {
  describeResults,
  kitOptions,
  notPassed,
  OWN_CLIENT,
  OWN_SERVER,
  runConformance,
} from "./support/conformance.ts";
import { freePort, ProcessScope } from "./support/processes.ts";

Deno.test("conformance: our server and our client pass every check in every group", async () => {
  const [server, client] = await Promise.all([
    runConformance(kitOptions("server", OWN_SERVER)),
    runConformance(kitOptions("client", OWN_CLIENT)),
  ]);
  assert.deepEqual(notPassed(server), [], describeResults(server));
  assert.equal(server.length, SERVER_CHECKS.length);
  assert.deepEqual(notPassed(client), [], describeResults(client));
  assert.equal(client.length, CLIENT_CHECKS.length);
});

Deno.test("conformance: our server already running (--target) passes; the start checks are skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "conformance-target-" });
  await using scope = new ProcessScope();
  try {
    const usersFile = join(dir, "users.txt");
    await Deno.writeTextFile(usersFile, kitUsersFile());
    const port = freePort();
    const server = scope.spawnServer([
      "--reply-timeout=3",
      "--quiet",
      String(port),
      usersFile,
    ]);
    await server.waitForLine(/^listening on /, 10_000);
    const results = await runConformance(
      kitOptions("server", [], {
        command: undefined,
        target: { hostname: "127.0.0.1", port },
        usersFile,
      }),
    );
    const skipped = results.filter((result) => result.outcome === "skip");
    assert.deepEqual(
      skipped.map((result) => result.id).sort(),
      ["missing-users-file", "port-in-use"],
    );
    for (const result of skipped) {
      assert.match(result.reason ?? "", /needs the kit to start the server/);
    }
    assert.deepEqual(
      results.filter((result) => result.outcome === "fail"),
      [],
      describeResults(results),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
