/**
 * The terminal the client runs in, behind a small interface so that the
 * terminal user interface can be tested with a fake one: keyboard bytes in,
 * text out on standard output and standard error, raw mode, width, signals.
 *
 * {@linkcode systemTerminal} is the real one. It needs no permission: colour
 * is off when `NO_COLOR` is set, read through `Deno.noColor` (which Deno
 * fills in from the environment at start-up, with no `--allow-env`), or when
 * standard output is not a terminal.
 *
 * @module
 */

/** An output stream: standard output or standard error. */
export type OutputStream = "out" | "err";

/** The signals the terminal interface reacts to. */
export type TerminalSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGWINCH";

/** What the terminal user interface needs from a terminal. */
export interface TerminalDevice {
  /** Reads keyboard bytes into `buffer`: the count, or `null` at the end. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Turns raw mode (no echo, no line buffering, no signal keys) on or off. */
  setRaw(raw: boolean): void;
  /** Writes all of `text` to `stream` before returning. */
  write(stream: OutputStream, text: string): void;
  /** Whether `stream` is a terminal. */
  isTerminal(stream: OutputStream): boolean;
  /** The terminal's width in columns. */
  columns(): number;
  /** Whether to use colour. */
  readonly colour: boolean;
  /** Calls `handler` on `signal` until the returned function is called. */
  onSignal(signal: TerminalSignal, handler: () => void): () => void;
}

const encoder = new TextEncoder();

/** Width assumed when the terminal does not say. */
const DEFAULT_COLUMNS = 80;

/**
 * Whether output to standard output should be coloured: not when `NO_COLOR`
 * is set to a non-empty value (read via `Deno.noColor`, no permission
 * needed) and not when standard output is not a terminal.
 */
function colourWanted(): boolean {
  return !Deno.noColor && Deno.stdout.isTerminal();
}

function writeAll(file: { writeSync(data: Uint8Array): number }, text: string) {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) {
    written += file.writeSync(bytes.subarray(written));
  }
}

/**
 * The process's own terminal: `Deno.stdin` in raw mode, `Deno.stdout`,
 * `Deno.stderr`, `Deno.consoleSize()` and signal listeners.
 *
 * While raw mode is on, the terminal is also put back to normal when the
 * process exits (`Deno.exit`, the end of the program) or dies of an uncaught
 * error, so no exit path leaves it raw.
 */
export function systemTerminal(): TerminalDevice {
  let raw = false;
  const restore = () => {
    if (!raw) return;
    raw = false;
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // Standard input is gone (the terminal closed): nothing to restore.
    }
  };
  const events = ["unload", "error", "unhandledrejection"] as const;
  return {
    read: (buffer) => Deno.stdin.read(buffer),
    setRaw(on) {
      if (on === raw) return;
      if (on) {
        Deno.stdin.setRaw(true);
        raw = true;
        for (const event of events) globalThis.addEventListener(event, restore);
      } else {
        restore();
        for (const event of events) {
          globalThis.removeEventListener(event, restore);
        }
      }
    },
    write(stream, text) {
      try {
        writeAll(stream === "out" ? Deno.stdout : Deno.stderr, text);
      } catch {
        // The terminal or pipe closed; there is no one left to tell.
      }
    },
    isTerminal: (stream) =>
      stream === "out" ? Deno.stdout.isTerminal() : Deno.stderr.isTerminal(),
    columns() {
      try {
        return Deno.consoleSize().columns || DEFAULT_COLUMNS;
      } catch {
        return DEFAULT_COLUMNS;
      }
    },
    colour: colourWanted(),
    onSignal(signal, handler) {
      Deno.addSignalListener(signal, handler);
      return () => Deno.removeSignalListener(signal, handler);
    },
  };
}
