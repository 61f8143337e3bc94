/**
 * A listening socket's backlog, as the kernel reports it (`ss`, Linux): how
 * many connections may wait to be accepted. A server that listens with a
 * small one (Python's `listen(5)`) makes clients arriving together wait for
 * the kernel's SYN retries, one second and more, which timing alone shows
 * only when the machine happens to be slow enough.
 *
 * @module
 */

/**
 * The backlog of the socket listening on `port` on this machine, or
 * `undefined` if it cannot be known (no `ss`, or no such socket here).
 */
export async function listenBacklog(port: number): Promise<number | undefined> {
  let text: string;
  try {
    const output = await new Deno.Command("ss", {
      args: ["-Hltn", `sport = :${port}`],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!output.success) return undefined;
    text = new TextDecoder().decode(output.stdout);
  } catch {
    return undefined;
  }
  // State, Recv-Q (waiting now), Send-Q (the backlog), local, peer.
  const backlogs = text.split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[0] === "LISTEN")
    .map((fields) => Number(fields[2]))
    .filter((n) => Number.isInteger(n));
  return backlogs.length === 0 ? undefined : Math.min(...backlogs);
}

/** Whether `hostname` names this machine. */
export function isThisMachine(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" ||
    hostname.startsWith("127.");
}
