/**
 * The page and its assets, imported as text so that they are part of the
 * module graph: `deno compile` embeds them, and serving them reads no file.
 * Nothing else is served, so no path can reach the users file.
 *
 * @module
 */

import page from "./static/index.html" with { type: "text" };
import script from "./static/app.js" with { type: "text" };
import style from "./static/style.css" with { type: "text" };
import icon from "./static/icon.svg" with { type: "text" };

/**
 * The page may load its own script, style and icon, and connect to its own
 * origin (its WebSocket); nothing inline, nothing from anywhere else, never
 * framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every response of the web port. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-cache",
};

/** One file served: its body and type. */
export interface Asset {
  /** The file's text. */
  readonly body: string;
  /** Its media type. */
  readonly type: string;
}

/** Every path served other than the WebSocket's, and what it serves. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/", { body: page, type: "text/html; charset=utf-8" }],
  ["/app.js", { body: script, type: "text/javascript; charset=utf-8" }],
  ["/style.css", { body: style, type: "text/css; charset=utf-8" }],
  ["/icon.svg", { body: icon, type: "image/svg+xml" }],
]);
