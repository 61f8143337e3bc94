/**
 * The web client: a page served by the chat server, whose users are
 * sessions like any terminal client's. Start it through the server's `web`
 * option; this module exposes its parts for tests and tools.
 *
 * @example
 * ```ts
 * import { startServer } from "../server/mod.ts";
 *
 * await using server = startServer(new Map([["bob", "bob123"]]), {
 *   hostname: "127.0.0.1",
 *   web: { port: 0 },
 * });
 * console.log(`open ${server.web?.url}`);
 * ```
 *
 * @module
 */

export { ASSETS, CONTENT_SECURITY_POLICY, SECURITY_HEADERS } from "./assets.ts";
export {
  type ClientFrame,
  maxFrameBytes,
  parseClientFrame,
  utf8Length,
} from "./frames.ts";
export {
  isLoopback,
  isSameOrigin,
  type SameOriginOptions,
  WebGateway,
  type WebGatewayOptions,
  WebListenError,
  WEBSOCKET_PATH,
} from "./gateway.ts";
export { CloseCode, MAX_BACKLOG, WebClientLink } from "./ws_link.ts";
