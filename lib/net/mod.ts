/**
 * Text lines over TCP: framing a byte stream into lines with a length limit,
 * decoding them, and a connection that reads and writes lines.
 *
 * @module
 */

export * from "./line_framer.ts";
export * from "./line_reader.ts";
export * from "./line_connection.ts";
