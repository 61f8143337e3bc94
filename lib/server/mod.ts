/**
 * The instant-messaging server, startable in-process on any port.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 *
 * await using server = startServer(new Map([["bob", "bob123"]]), {
 *   hostname: "127.0.0.1",
 * });
 * console.log(`listening on port ${server.port}`);
 * ```
 *
 * @module
 */

export { ChatServer, type ServerStats, startServer } from "./chat_server.ts";
export * from "./options.ts";
export {
  formatLogEvent,
  type LogEvent,
  type LogFormat,
  type LogLevel,
} from "./log.ts";
export { loadUsers, parseUsers, UsersFileError } from "./users_file.ts";
