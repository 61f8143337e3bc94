/**
 * The web client over HTTPS and WSS: `server.ts --web=0 --tls-cert --tls-key`
 * with a certificate made at test time, driven in Chromium, which trusts
 * that certificate's key in this test's browser only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestBrowser } from "./support/browser.ts";
import {
  DELIVERED,
  makeScratchDir,
  ProcessScope,
  removeScratchDir,
  START_TIMEOUT_MS,
} from "./support/processes.ts";
import { makeCertificate } from "./support/tls.ts";
import { passwordOf, USERS_FILE } from "./support/target.ts";
import { WirePeer } from "./support/wire_peer.ts";

Deno.test("web over TLS: HTTPS page, WSS socket, no clear-text warning", async () => {
  const dir = await makeScratchDir("im_tls_");
  let bob: WirePeer | undefined;
  try {
    const certificate = await makeCertificate(dir);
    await using scope = new ProcessScope();
    const server = scope.spawnServer([
      "--web=0",
      `--tls-cert=${certificate.certPath}`,
      `--tls-key=${certificate.keyPath}`,
      "0",
      USERS_FILE,
    ]);
    const first = await server.waitForLine(() => true, START_TIMEOUT_MS);
    const tcpPort = Number(first.match(/:(\d{1,5}) /)?.[1]);
    const webLine = await server.waitForLine(/^web client on /);
    const match = webLine.match(/^web client on https:\/\/localhost:(\d+)\/$/);
    assert.ok(match, webLine);
    const url = `https://localhost:${match[1]}/`;

    // Without a browser: the page over HTTPS, trusting this certificate.
    const client = Deno.createHttpClient({ caCerts: [certificate.certPem] });
    try {
      const page = await fetch(url, { client });
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>Chat<\/title>/);
      // The same port does not speak plain HTTP.
      await assert.rejects(fetch(`http://localhost:${match[1]}/`, { client }));
    } finally {
      client.close();
    }

    bob = await WirePeer.connect({ hostname: "127.0.0.1", port: tcpPort });
    await bob.join("bob", passwordOf("bob"));

    await using chromium = await TestBrowser.launch([
      `--ignore-certificate-errors-spki-list=${certificate.spkiHash}`,
    ]);
    const jacky = await chromium.open();
    await jacky.goto(url);
    assert.equal(
      await jacky.page.evaluate(() => location.protocol),
      "https:",
    );
    await jacky.login("jacky", passwordOf("jacky"));
    await jacky.send("bob", "Over TLS both ways");
    await bob.lb.expectLine("/from jacky Over TLS both ways");
    await bob.request("/to jacky Received, securely", DELIVERED);
    await jacky.waitForEntry(["bob", "Received, securely"]);
    jacky.assertClean();

    server.kill("SIGTERM");
    const result = await server.waitForExit();
    assert.equal(result.code, 0, server.report());
    assert.doesNotMatch(result.stderr, /warning/i);
  } finally {
    await bob?.close();
    await removeScratchDir(dir);
  }
});
