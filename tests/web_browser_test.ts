/**
 * The page in a real browser: headless Chromium (Debian's) against
 * `server.ts --web=0` run as a real process, with terminal users as real
 * `client.ts` processes and wire peers. One browser for the whole file;
 * each step is one of the cases. Screenshots of the chat at desktop
 * and phone width go to `IM_SCREENSHOTS` when it is set.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ChatPage, screenshotDir, TestBrowser } from "./support/browser.ts";
import {
  type ClientProcess,
  DELIVERED,
  ProcessScope,
  START_TIMEOUT_MS,
} from "./support/processes.ts";
import { passwordOf, USERS_FILE, waitUntil } from "./support/target.ts";
import { WirePeer } from "./support/wire_peer.ts";

const XSS = [
  `<img src=x onerror="document.title='pwned'">`,
  `<script>document.title='pwned'</script>`,
  `<svg onload="document.title='pwned'"><b>bold</b>`,
  `"><iframe src="javascript:document.title='pwned'"></iframe>`,
  `<a href="javascript:alert(1)">click</a> &lt;not&gt; &amp;`,
];

Deno.test("web page in Chromium", async (t) => {
  await using scope = new ProcessScope();
  const server = scope.spawnServer(["--web=0", "0", USERS_FILE]);
  const first = await server.waitForLine(() => true, START_TIMEOUT_MS);
  const tcpPort = Number(first.match(/:(\d{1,5}) /)?.[1]);
  const webLine = await server.waitForLine(/^web client on /);
  const url = webLine.slice("web client on ".length);
  const address = { hostname: "127.0.0.1", port: tcpPort };

  await using chromium = await TestBrowser.launch();
  const shots = await screenshotDir();
  const wires: WirePeer[] = [];
  const wire = async (name: string): Promise<WirePeer> => {
    const peer = await WirePeer.connect(address, { name });
    wires.push(peer);
    await peer.join(name, passwordOf(name));
    return peer;
  };
  const terminal = async (name: string): Promise<ClientProcess> => {
    const client = scope.startClient(tcpPort, name);
    await client.login(name, passwordOf(name));
    return client;
  };
  const pages: ChatPage[] = [];
  const open = async (width?: number, height?: number): Promise<ChatPage> => {
    const page = await chromium.open(width, height);
    pages.push(page);
    await page.goto(url);
    return page;
  };

  try {
    const jacky = await open();
    await jacky.login("jacky", passwordOf("jacky"));
    const bob = await terminal("bob");

    await t.step(
      "a browser user and a terminal user exchange /to",
      async () => {
        await jacky.send("bob", "Hello! Nice to meet you!");
        await bob.waitForLine("/from jacky Hello! Nice to meet you!");
        await jacky.waitForEntry(["You", "to bob, private", "delivered"]);

        assert.equal(
          await bob.command("/to jacky Jacky, nice to meet you too!", "30"),
          DELIVERED,
        );
        await jacky.waitForEntry([
          "bob",
          "to you, private",
          "Jacky, nice to meet you too!",
        ]);
        const entry = (await jacky.conversation()).at(-1) ?? "";
        assert.match(entry, /^\d{1,2}:\d{2}/, "each message shows its time");
      },
    );

    const michael = await wire("michael");
    const alice = await open();
    await alice.login("alice", passwordOf("alice"));
    const carol = await open();
    await carol.login("carol", passwordOf("carol"));

    await t.step(
      "a /toall reaches two terminal and two browser users",
      async () => {
        const text = "How about meeting at 3pm today?";
        await jacky.send("", text);
        await bob.waitForLine(`/broadcastfrom jacky ${text}`);
        await michael.lb.expectLine(`/broadcastfrom jacky ${text}`);
        for (const page of [alice, carol]) {
          await page.waitForEntry(["jacky", "to everyone", text]);
        }
        await jacky.waitForEntry([
          "You",
          "to everyone",
          "delivered to everyone",
        ]);
      },
    );

    await t.step("screenshots at desktop and phone width", async () => {
      await michael.request("/toall No problem.", DELIVERED);
      await jacky.waitForEntry(["michael", "to everyone", "No problem."]);
      await jacky.send("michael", "See you at 3pm, Michael.");
      await jacky.waitForEntry(["to michael, private", "delivered"]);
      await jacky.screenshot(shots.dir, "chat-desktop");
      // The same page, narrowed: turning it into a mobile one would reload it.
      await jacky.page.setViewport({
        width: 375,
        height: 740,
        deviceScaleFactor: 2,
      });
      await jacky.page.evaluate(() => {
        const log = document.querySelector('[role="log"]')!;
        log.scrollTop = log.scrollHeight;
      });
      await jacky.screenshot(shots.dir, "chat-phone");
      await jacky.page.setViewport({ width: 1280, height: 800 });
    });

    await t.step("the online list follows logins and logouts", async () => {
      const everyone = ["jacky (you)", "bob", "michael", "alice", "carol"];
      await jacky.waitForOnline(everyone);
      const dave = await wire("dave");
      await jacky.waitForOnline([...everyone, "dave"]);
      await dave.request("/exit", "310 Bye bye");
      await jacky.waitForOnline(everyone);
    });

    await t.step("what looks like markup is shown as text", async () => {
      for (const text of XSS) {
        await michael.request(`/to jacky ${text}`, DELIVERED);
      }
      await alice.send("jacky", XSS[0]);
      await jacky.waitForEntry(["alice", XSS[0]]);
      const shown = await jacky.page.$$eval(
        '[role="log"] .text',
        (nodes) => nodes.map((node) => node.textContent),
      );
      for (const text of XSS) assert.ok(shown.includes(text), text);
      const markup = await jacky.page.$$eval(
        '[role="log"] img, [role="log"] script, [role="log"] svg, ' +
          '[role="log"] iframe, [role="log"] a, [role="log"] b',
        (nodes) => nodes.length,
      );
      assert.equal(markup, 0, "markup from a message became elements");
      assert.equal(await jacky.page.title(), "Chat: jacky");
      jacky.assertClean();
    });

    await t.step("closing the tab takes the user off /list", async () => {
      await michael.request("/list", "301 michael jacky bob alice carol");
      await carol.page.close();
      await waitUntil(
        async () => {
          await michael.send("/list");
          return await michael.expectLine() === "301 michael jacky bob alice";
        },
        "carol is off the list",
        3000,
      );
    });

    await t.step(
      "a wrong password shows an error and the form stays",
      async () => {
        const page = await open();
        await page.submitLogin("erin", "wrong-password");
        await page.waitFor(
          ([text]) =>
            [...document.querySelectorAll('[role="alert"]')].some((alert) =>
              alert.textContent?.includes(text) && alert.checkVisibility()
            ),
          ["Wrong user name or password"],
        );
        assert.equal(
          await page.page.$eval(
            "#user",
            (input) => (input as HTMLInputElement).value,
          ),
          "erin",
        );
        assert.ok(
          await (await page.page.$("::-p-aria(Password)"))?.isVisible(),
        );
        assert.equal(await page.page.$('::-p-aria([role="log"])'), null);
        await page.login("erin", passwordOf("erin"));
        page.assertClean();
      },
    );

    await t.step("at 375 px wide, with the keyboard alone", async () => {
      const phone = await open(375, 740);
      const { page } = phone;
      // The user name field has the focus; Tab, Enter and arrows do the rest.
      await page.keyboard.type("frank");
      await page.keyboard.press("Tab");
      await page.keyboard.type(passwordOf("frank"));
      await page.keyboard.press("Enter");
      await phone.waitFor(([name]) => document.title.includes(name), ["frank"]);
      await phone.waitForOnline([
        "frank (you)",
        "jacky",
        "bob",
        "michael",
        "alice",
        "erin",
      ]);
      const wide = await page.evaluate(() =>
        document.documentElement.scrollWidth
      );
      assert.ok(wide <= 375, `the page is ${wide} px wide`);
      for (
        const name of [
          "::-p-aria(To)",
          "::-p-aria(Message)",
          '::-p-aria([name="Send"][role="button"])',
          '::-p-aria([name="Log out"][role="button"])',
        ]
      ) {
        const box = await (await page.$(name))?.boundingBox();
        assert.ok(box, name);
        assert.ok(box.x >= 0 && box.x + box.width <= 375, `${name} is cut off`);
        assert.ok(box.height >= 24, `${name} is too small to tap`);
      }
      // Focus is in Message: back to To, pick jacky by typing, write, send.
      await page.keyboard.down("Shift");
      await page.keyboard.press("Tab");
      await page.keyboard.up("Shift");
      await page.keyboard.type("jacky");
      await page.keyboard.press("Tab");
      await page.keyboard.type("Typed on a phone");
      await page.keyboard.press("Enter");
      await jacky.waitForEntry([
        "frank",
        "to you, private",
        "Typed on a phone",
      ]);
      await phone.waitForEntry(["to jacky, private", "delivered"]);
      await phone.screenshot(shots.dir, "phone-keyboard");
      // Log out from the keyboard: back through the page to the button.
      for (let i = 0; i < 20; i++) {
        const on = await page.evaluate(() => document.activeElement?.id);
        if (on === "logout") break;
        await page.keyboard.down("Shift");
        await page.keyboard.press("Tab");
        await page.keyboard.up("Shift");
      }
      await page.keyboard.press("Enter");
      await phone.locate("::-p-aria(User name)").wait();
      await jacky.waitForOnline([
        "jacky (you)",
        "bob",
        "michael",
        "alice",
        "erin",
      ]);
      phone.assertClean();
    });
    alice.assertClean();
  } finally {
    await Promise.all(wires.map((peer) => peer.close()));
    await shots.done();
  }
});
