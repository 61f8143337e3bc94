/**
 * The interactive terminal front end of the client: line editing with
 * history, a hidden password, and chat shown as chat.
 *
 * @module
 */

export { systemTerminal, type TerminalDevice } from "./terminal.ts";
export { TerminalUI, type TerminalUIOptions } from "./terminal_ui.ts";
