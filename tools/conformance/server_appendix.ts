/**
 * The Appendix replayed against a server: the kit plays bob, michael and
 * jacky, and every line each of them gets must be the Appendix's.
 *
 * @module
 */

import {
  AUTH_SUCCESSFUL,
  BUILD_SUCCESSFUL,
  BYE,
  formatLogin,
  formatPort,
  LIST_CODE,
} from "../../lib/protocol.ts";
import {
  type Actor,
  APPENDIX_EXIT,
  appendixList,
  appendixSteps,
} from "./appendix.ts";
import type { Peer, ServerCheckContext } from "./server_peer.ts";

/** `301` with exactly `names`, in any order, one space apart. */
export function listsExactly(line: string, names: string[]): boolean {
  const prefix = `${LIST_CODE} `;
  if (!line.startsWith(prefix) || line.length === prefix.length) return false;
  const listed = line.slice(prefix.length).split(" ");
  if (listed.includes("")) return false;
  return listed.length === names.length &&
    [...listed].sort().join(" ") === [...names].sort().join(" ");
}

/** Replays the Appendix; the first line that differs fails the check. */
export async function replayAppendix(t: ServerCheckContext): Promise<void> {
  const peers = new Map<Actor, Peer>();
  for (const actor of ["bob", "michael", "jacky"] as const) {
    const peer = await t.connect(actor);
    peers.set(actor, peer);
    await peer.la.send(formatLogin(peer.name, peer.user.password));
    await peer.la.expect(AUTH_SUCCESSFUL);
    const { port, accepted } = peer.listen();
    await peer.la.send(formatPort(port));
    await peer.la.expect(BUILD_SUCCESSFUL);
    await peer.acceptLb(accepted);
    if (actor === "bob") await t.ensureAlone(peer);
  }
  const name = (actor: Actor) => peers.get(actor)!.name;
  const jacky = peers.get("jacky")!;
  for (const step of appendixSteps(name)) {
    const sender = peers.get(step.by)!;
    await sender.la.send(step.command);
    for (const delivery of step.deliveries) {
      await peers.get(delivery.to)!.lb.expect(delivery.line);
    }
    if (step.reply !== undefined) {
      await sender.la.expect(step.reply);
    } else {
      const names = [name("jacky"), name("bob"), name("michael")];
      await sender.la.expectThat(
        (line) => listsExactly(line, names),
        `SERVER(a): ${appendixList(name)} (names in any order)`,
      );
    }
  }
  await jacky.la.send(APPENDIX_EXIT);
  await jacky.la.expect(BYE);
}
