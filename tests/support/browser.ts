/// <reference lib="dom" />
/**
 * Headless Chromium for the page's tests, driven over the DevTools protocol
 * with puppeteer-core: Debian's `/usr/bin/chromium`, a fresh profile, and
 * the flags that keep it off the network. Pages are found by their
 * accessible names, as a person using a screen reader would find them.
 *
 * @module
 */

import assert from "node:assert/strict";
import puppeteer, {
  type Browser,
  type Locator,
  type Page,
} from "puppeteer-core";

/** Where the browser is, unless `CHROMIUM` says otherwise. */
export const CHROMIUM_PATH: string = Deno.env.get("CHROMIUM") ??
  "/usr/bin/chromium";

/** How long a page may take to show what a step waits for. */
export const PAGE_TIMEOUT_MS = 6000;

const QUIET_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser and its scratch profile; disposing closes and removes both. */
export class TestBrowser implements AsyncDisposable {
  /** The browser. */
  readonly browser: Browser;
  readonly #profile: string;

  private constructor(browser: Browser, profile: string) {
    this.browser = browser;
    this.#profile = profile;
  }

  /** Launches Chromium with `extraFlags` added. */
  static async launch(extraFlags: string[] = []): Promise<TestBrowser> {
    const profile = await Deno.makeTempDir({ prefix: "im_chromium_" });
    try {
      const browser = await puppeteer.launch({
        executablePath: CHROMIUM_PATH,
        userDataDir: profile,
        args: [...QUIET_FLAGS, ...extraFlags],
      });
      return new TestBrowser(browser, profile);
    } catch (error) {
      await Deno.remove(profile, { recursive: true });
      throw error;
    }
  }

  /**
   * A new tab of `width` × `height` pixels (a phone's when 375 wide), with
   * a short default timeout. Script errors and dialogs on it are recorded.
   */
  async open(width = 1280, height = 800): Promise<ChatPage> {
    // Each in a window of its own: a background tab counts as hidden.
    const page = await this.browser.newPage({ type: "window" });
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    const phone = width <= 480;
    await page.setViewport({
      width,
      height,
      isMobile: phone,
      hasTouch: phone,
      deviceScaleFactor: phone ? 2 : 1,
    });
    return new ChatPage(page);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.browser.close();
    } finally {
      await Deno.remove(this.#profile, { recursive: true });
    }
  }
}

/** One tab with the chat page, and what went wrong on it. */
export class ChatPage {
  /** The tab. */
  readonly page: Page;
  /** Uncaught script errors and `console.error` lines. */
  readonly errors: string[] = [];
  /** Messages of any `alert`, `confirm` or `prompt` the page opened. */
  readonly dialogs: string[] = [];

  constructor(page: Page) {
    this.page = page;
    page.on("pageerror", (error) => this.errors.push(String(error)));
    page.on("console", (message) => {
      if (message.type() === "error") this.errors.push(message.text());
    });
    page.on("dialog", async (dialog) => {
      this.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
  }

  /** A locator for `selector` that gives up after the page timeout. */
  locate(selector: string): Locator<Element> {
    return this.page.locator(selector).setTimeout(PAGE_TIMEOUT_MS);
  }

  /** Opens `url` and waits for the login form. */
  async goto(url: string): Promise<void> {
    await this.page.goto(url);
    await this.locate("::-p-aria(User name)").wait();
  }

  /** Fills the login form by its labels and presses "Log in". */
  async submitLogin(user: string, password: string): Promise<void> {
    await this.locate("::-p-aria(User name)").fill(user);
    await this.locate("::-p-aria(Password)").fill(password);
    await this.locate('::-p-aria([name="Log in"][role="button"])')
      .click();
  }

  /** Logs in and waits for the conversation to show. */
  async login(user: string, password: string): Promise<void> {
    await this.submitLogin(user, password);
    await this.locate('::-p-aria([role="log"])').wait();
    await this.waitFor(
      ([name]) =>
        document.querySelector('[role="log"]')?.checkVisibility() === true &&
        document.title.includes(name),
      [user],
    );
  }

  /** Waits until `condition(arg)` holds in the page. */
  async waitFor(
    condition: (arg: string[]) => boolean,
    arg: string[],
    timeout = PAGE_TIMEOUT_MS,
  ): Promise<void> {
    await this.page.waitForFunction(condition, { timeout, polling: 50 }, arg);
  }

  /** The names in the list labelled "Online", as shown. */
  async online(): Promise<string[]> {
    const list = await this.page.$('::-p-aria([name="Online"][role="list"])');
    assert.ok(list, "no list named Online");
    return await list.$$eval(
      "li",
      (items) => items.map((item) => item.textContent?.trim() ?? ""),
    );
  }

  /** Waits until the Online list shows exactly `names`. */
  async waitForOnline(
    names: string[],
    timeout = PAGE_TIMEOUT_MS,
  ): Promise<void> {
    await this.waitFor(
      (expected) => {
        const list = document.querySelector("[aria-labelledby=online-heading]");
        const shown = [...(list?.querySelectorAll("li") ?? [])]
          .map((item) => item.textContent?.trim());
        return shown.join("|") === expected.join("|");
      },
      names,
      timeout,
    );
  }

  /** The text of each entry of the conversation (`role="log"`). */
  async conversation(): Promise<string[]> {
    return await this.page.$$eval(
      '[role="log"] > *',
      (entries) => entries.map((entry) => (entry as HTMLElement).innerText),
    );
  }

  /** Waits until some entry of the conversation holds every one of `parts`. */
  async waitForEntry(
    parts: string[],
    timeout = PAGE_TIMEOUT_MS,
  ): Promise<void> {
    await this.waitFor(
      (wanted) =>
        [...document.querySelectorAll('[role="log"] > *')].some((entry) =>
          wanted.every((part) =>
            (entry as HTMLElement).innerText.includes(part)
          )
        ),
      parts,
      timeout,
    );
  }

  /** Chooses `to` in "To" ("" for Everyone), writes `text` and presses "Send". */
  async send(to: string, text: string): Promise<void> {
    const select = await this.page.$("::-p-aria(To)");
    assert.ok(select, "no control named To");
    await this.waitFor(
      ([name]) =>
        [...document.querySelectorAll("select option")].some((option) =>
          (option as HTMLOptionElement).value === name
        ),
      [to],
    );
    await select.select(to);
    await this.locate("::-p-aria(Message)").fill(text);
    await this.locate('::-p-aria([name="Send"][role="button"])').click();
  }

  /** Saves a screenshot of the tab into `dir`, as `name`.png. */
  async screenshot(dir: string, name: string): Promise<string> {
    const path = `${dir}/${name}.png`;
    await this.page.screenshot({ path: path as `${string}.png` });
    return path;
  }

  /** Asserts that no script error and no dialog happened on the page. */
  assertClean(): void {
    assert.deepEqual(this.dialogs, [], "a dialog opened");
    assert.deepEqual(this.errors, [], "script errors on the page");
  }
}

/**
 * The folder for screenshots: `IM_SCREENSHOTS` if set (kept), else a
 * scratch folder removed by the returned function.
 */
export async function screenshotDir(): Promise<
  { dir: string; done: () => Promise<void> }
> {
  const chosen = Deno.env.get("IM_SCREENSHOTS");
  if (chosen !== undefined) {
    await Deno.mkdir(chosen, { recursive: true });
    return { dir: chosen, done: () => Promise.resolve() };
  }
  const dir = await Deno.makeTempDir({ prefix: "im_screens_" });
  return { dir, done: () => Deno.remove(dir, { recursive: true }) };
}
