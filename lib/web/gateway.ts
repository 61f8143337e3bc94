/**
 * The web client's HTTP port: the page and its assets, and the WebSocket
 * that makes each browser user a session of the chat server. Served by
 * `Deno.serve`, over HTTPS when given a certificate and key.
 *
 * Only the paths of `assets.ts` and `/ws` answer; anything else is 404. The
 * WebSocket upgrade is refused to a page of another origin, so another site
 * cannot connect on a visitor's behalf.
 *
 * @module
 */

import { delay } from "../async/delay.ts";
import { describeListenError } from "../errors.ts";
import type { EventLog } from "../server/log.ts";
import { ASSETS, SECURITY_HEADERS } from "./assets.ts";
import { CloseCode, WebClientLink } from "./ws_link.ts";

/** The path of the WebSocket. */
export const WEBSOCKET_PATH = "/ws";

/**
 * How long a shutdown waits for the pages to answer the close of their
 * sockets before every connection is closed.
 */
export const SHUTDOWN_GRACE_MS = 1000;

/** What a {@linkcode WebGateway} is started with. */
export interface WebGatewayOptions {
  /** Address to listen on. */
  hostname: string;
  /** Port to listen on; `0` picks a free one. */
  port: number;
  /** PEM certificate chain: with `key`, HTTPS and WSS. */
  cert?: string;
  /** PEM private key. */
  key?: string;
  /** Longest accepted line in bytes. */
  maxLineBytes: number;
  /** The server's event log. */
  log: EventLog;
  /**
   * Makes a newly opened socket a session; false when the server takes no
   * more connections.
   */
  admit(link: WebClientLink): boolean;
}

/** The web port could not be opened. */
export class WebListenError extends Error {
  /** Describes why the web port could not be opened. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WebListenError";
  }
}

/** Options for {@linkcode isSameOrigin}. */
export interface SameOriginOptions {
  /** Whether the page is served over HTTPS. */
  secure?: boolean;
}

/**
 * Whether a WebSocket upgrade may go ahead: a browser names the page's
 * origin, which must be this server's own (scheme, host and port, as the
 * browser asked for it in `Host`). A request without an Origin comes from
 * no browser page, and could name any origin it liked: it is let through.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isSameOrigin } from "./gateway.ts";
 *
 * assert.ok(isSameOrigin("http://chat.example:8080", "chat.example:8080"));
 * assert.ok(!isSameOrigin("https://evil.example", "chat.example:8080"));
 * assert.ok(isSameOrigin("https://chat.example", "chat.example", { secure: true }));
 * ```
 */
export function isSameOrigin(
  origin: string | null,
  host: string | null,
  options: SameOriginOptions = {},
): boolean {
  if (origin === null) return true;
  if (host === null) return false;
  const scheme = options.secure ? "https:" : "http:";
  try {
    const page = new URL(origin);
    return page.protocol === scheme &&
      page.host === new URL(`${scheme}//${host}`).host;
  } catch {
    // "null" (a sandboxed or file page) and anything unreadable.
    return false;
  }
}

/** Whether `hostname` is a loopback address, reachable from this host only. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** The HTTP server of the web client. */
export class WebGateway {
  /** Whether the page is served over HTTPS. */
  readonly secure: boolean;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #options: WebGatewayOptions;
  /** Open sockets, to close them first on shutdown. */
  readonly #links = new Set<WebClientLink>();
  /** Closes every connection at once. */
  readonly #abort = new AbortController();
  #closing: Promise<void> | undefined;

  /**
   * Starts listening at once.
   *
   * @throws {WebListenError} if the port cannot be bound or the certificate
   * and key are unusable.
   */
  constructor(options: WebGatewayOptions) {
    this.#options = options;
    this.secure = options.cert !== undefined && options.key !== undefined;
    const base = {
      hostname: options.hostname,
      port: options.port,
      signal: this.#abort.signal,
      onListen() {},
      onError: (error: unknown) => {
        options.log.internalError(error);
        return new Response("internal error", {
          status: 500,
          headers: SECURITY_HEADERS,
        });
      },
    };
    const handler = (request: Request, info: Deno.ServeHandlerInfo) =>
      this.#handle(request, info as Deno.ServeHandlerInfo<Deno.NetAddr>);
    try {
      this.#server = this.secure
        ? Deno.serve(
          { ...base, cert: options.cert!, key: options.key! },
          handler,
        )
        : Deno.serve(base, handler);
    } catch (error) {
      throw new WebListenError(
        `cannot serve the web client on port ${options.port}: ${
          describeListenError(error)
        }`,
        { cause: error },
      );
    }
  }

  /** The address the web client is served on. */
  get hostname(): string {
    return this.#server.addr.hostname;
  }

  /** The port the web client is served on. */
  get port(): number {
    return this.#server.addr.port;
  }

  /**
   * The page's address to open in a browser: `localhost` when serving on
   * every interface.
   */
  get url(): string {
    const host = this.hostname;
    const shown = host === "0.0.0.0" || host === "::"
      ? "localhost"
      : host.includes(":")
      ? `[${host}]`
      : host;
    return `${this.secure ? "https" : "http"}://${shown}:${this.port}/`;
  }

  /** Sockets open right now. */
  get sockets(): number {
    return this.#links.size;
  }

  /**
   * Closes every socket (the page is told the server is shutting down),
   * gives the pages {@linkcode SHUTDOWN_GRACE_MS} to answer, then closes
   * every connection and stops serving. Resolves once the HTTP server has
   * finished.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const links = [...this.#links];
      for (const link of links) {
        link.shut(CloseCode.GOING_AWAY, "Server shutting down");
      }
      const answered = new AbortController();
      Promise.all(links.map((link) => link.ended)).then(() => answered.abort());
      await delay(SHUTDOWN_GRACE_MS, { signal: answered.signal });
      answered.abort();
      // Not Deno's graceful shutdown: it waits for a browser's idle
      // connections, which may stay open for a minute.
      this.#abort.abort();
      await this.#server.finished;
    })();
    return this.#closing;
  }

  #handle(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response {
    const { pathname } = new URL(request.url);
    if (pathname === WEBSOCKET_PATH) return this.#upgrade(request, info);
    const asset = ASSETS.get(pathname);
    if (asset === undefined) return plain(404, "not found");
    if (request.method !== "GET" && request.method !== "HEAD") {
      return plain(405, "method not allowed", { allow: "GET, HEAD" });
    }
    return new Response(request.method === "HEAD" ? null : asset.body, {
      headers: { ...SECURITY_HEADERS, "content-type": asset.type },
    });
  }

  #upgrade(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return plain(426, "this path takes a WebSocket", {
        upgrade: "websocket",
      });
    }
    const { hostname, port } = info.remoteAddr;
    const peer = `${hostname}:${port} (web)`;
    const origin = request.headers.get("origin");
    const host = request.headers.get("host");
    if (!isSameOrigin(origin, host, { secure: this.secure })) {
      this.#options.log.emit({
        level: "error",
        event: "web-origin-refused",
        message: `${peer}: WebSocket from the page of ${origin} refused`,
        peer,
        cause: "cross-origin",
      });
      return plain(403, "a page of another origin may not connect");
    }
    let upgraded: Deno.WebSocketUpgrade;
    try {
      upgraded = Deno.upgradeWebSocket(request);
    } catch {
      return plain(400, "not a valid WebSocket request");
    }
    const { socket, response } = upgraded;
    const link = new WebClientLink(socket, {
      address: hostname,
      peer,
      maxLineBytes: this.#options.maxLineBytes,
    });
    this.#links.add(link);
    link.ended.then(() => this.#links.delete(link));
    socket.addEventListener("open", () => {
      if (!this.#options.admit(link)) {
        link.shut(CloseCode.TRY_AGAIN_LATER, "server full: try again later");
      }
    }, { once: true });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      response.headers.set(name, value);
    }
    return response;
  }
}

function plain(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${text}\n`, {
    status,
    headers: {
      ...SECURITY_HEADERS,
      ...headers,
      "content-type": "text/plain; charset=utf-8",
    },
  });
}
