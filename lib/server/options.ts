/**
 * What a server can be told at start, its defaults, and the settings in
 * force once defaults are filled in.
 *
 * @module
 */

import { DEFAULT_MAX_LINE_BYTES } from "../net/line_framer.ts";
import type { BackendFactory } from "./backend.ts";
import type { LogEvent, LogLevel } from "./log.ts";
import {
  type LoginThrottleOptions,
  throttleSettings,
} from "./login_throttle.ts";

/** Default time a receiver has to answer on Lb, in milliseconds. */
export const DEFAULT_REPLY_TIMEOUT_MS = 10_000;
/** Default time allowed to connect link Lb, in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default time a new connection has to log in, in milliseconds. */
export const DEFAULT_LOGIN_TIMEOUT_MS = 30_000;
/** Default limit on client connections at once. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** The address a server listens on unless told otherwise: all of IPv4. */
export const DEFAULT_HOSTNAME = "0.0.0.0";

/** One line crossing a link, seen from the server. */
export interface ServerTraceEvent {
  /** The user, or the client's address before login. */
  user: string;
  /** The link: `a` carries commands and replies, `b` chat. */
  link: "a" | "b";
  /** Who sent the line. */
  from: "CLIENT" | "SERVER";
  /** The line, without its `\n`; a line that could not be read is `�`. */
  line: string;
}

/** The web client's HTTP port: the page, its assets and its WebSocket. */
export interface WebOptions {
  /** Port for the page and its WebSocket; `0` (the default) picks a free one. */
  port?: number;
  /** Address to serve it on. Defaults to the server's own `hostname`. */
  hostname?: string;
  /** A PEM certificate chain: with `key`, the page is served over HTTPS. */
  cert?: string;
  /** The PEM private key of `cert`. */
  key?: string;
}

/** Options for {@linkcode startServer}. */
export interface ServerOptions {
  /** Address to listen on. Defaults to all IPv4 interfaces, `0.0.0.0`. */
  hostname?: string;
  /** Port to listen on; `0` (the default) picks a free one. */
  port?: number;
  /**
   * How long a receiver has to answer a chat line on Lb, and a client to
   * take a reply written to it on La. Default 10 s.
   */
  replyTimeoutMs?: number;
  /** How long connecting link Lb may take. Default 5 s. */
  connectTimeoutMs?: number;
  /** How long a new connection has to log in. Default 30 s. */
  loginTimeoutMs?: number;
  /** Longest accepted line in bytes, terminator excluded. Default 65,536. */
  maxLineBytes?: number;
  /** Most client connections at once; more are closed. Default 10,000. */
  maxConnections?: number;
  /** Delays for repeated failed logins, or `false` for none. */
  loginThrottle?: LoginThrottleOptions | false;
  /** Receives events at `logLevel` and above. */
  log?: (event: LogEvent) => void;
  /** The least important events logged. Default `info`: all of them. */
  logLevel?: LogLevel;
  /** Told of every line crossing La or Lb. */
  trace?: (event: ServerTraceEvent) => void;
  /**
   * Where the online list and delivery live; by default in this server's
   * memory. A cluster node gets its backend from `lib/cluster/`.
   */
  backend?: BackendFactory;
  /** Also serve the web client over HTTP; no HTTP port is opened without. */
  web?: WebOptions;
}

/** The limits a server runs with, every default filled in. */
export interface ServerSettings {
  /** How long a receiver has to answer, and a client to take a reply. */
  replyTimeoutMs: number;
  /** How long connecting link Lb may take. */
  connectTimeoutMs: number;
  /** How long a new connection has to log in. */
  loginTimeoutMs: number;
  /** Longest accepted line in bytes, terminator excluded. */
  maxLineBytes: number;
  /** Most client connections at once. */
  maxConnections: number;
  /** Delays for repeated failed logins, or `false` for none. */
  loginThrottle: Readonly<Required<LoginThrottleOptions>> | false;
}

/**
 * The settings `options` give, with a default for everything left out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveSettings } from "./options.ts";
 *
 * assert.equal(resolveSettings({ replyTimeoutMs: 500 }).connectTimeoutMs, 5000);
 * ```
 */
export function resolveSettings(options: ServerOptions): ServerSettings {
  return {
    replyTimeoutMs: options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    loginTimeoutMs: options.loginTimeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    loginThrottle: options.loginThrottle === false
      ? false
      : throttleSettings(options.loginThrottle),
  };
}

/**
 * The settings in one line, for the log at start:
 * `reply timeout 10 s, connect timeout 5 s, …`.
 */
export function describeSettings(settings: ServerSettings): string {
  const throttle = settings.loginThrottle;
  return [
    `reply timeout ${seconds(settings.replyTimeoutMs)}`,
    `connect timeout ${seconds(settings.connectTimeoutMs)}`,
    `login timeout ${seconds(settings.loginTimeoutMs)}`,
    `max line ${settings.maxLineBytes} bytes`,
    `max connections ${settings.maxConnections}`,
    throttle === false
      ? "login throttle off"
      : `login throttle after ${throttle.freeFailures} failures, ${
        seconds(throttle.baseDelayMs)
      } doubling to ${seconds(throttle.maxDelayMs)}`,
  ].join(", ");
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
