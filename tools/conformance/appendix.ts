/**
 * The handout's Appendix as a script: bob and michael are online, jacky
 * logs in, and the three chat until jacky leaves. Replayed against a server
 * (the kit plays all three) and against a client (the kit plays the server
 * for jacky). The Appendix's one `303 Message delivery success` is a typo
 * for `303 Message delivery successful`, which is what is expected.
 *
 * @module
 */

import {
  DELIVERY_SUCCESSFUL,
  EXIT,
  formatDelivery,
  formatList,
  formatTo,
  formatToAll,
  LIST,
} from "../../lib/protocol.ts";

/** The Appendix's three users, by role. */
export type Actor = "jacky" | "bob" | "michael";

/** One command of the conversation and what it causes. */
export interface AppendixStep {
  /** The Appendix's time for the command, `MM:SS`. */
  at: string;
  /** Who sends it. */
  by: Actor;
  /** What is typed and sent on La. */
  command: string;
  /** The chat lines it causes on others' Lb, by receiver. */
  deliveries: { to: Actor; line: string }[];
  /** The answer on La; `undefined` for `/list`, whose answer is checked apart. */
  reply: string | undefined;
}

/**
 * The conversation after jacky has logged in and built Lb, with the users'
 * real names filled in by `name`.
 */
export function appendixSteps(name: (actor: Actor) => string): AppendixStep[] {
  const to = (by: Actor, target: Actor, content: string): AppendixStep => ({
    at: "",
    by,
    command: formatTo(name(target), content),
    deliveries: [{
      to: target,
      line: formatDelivery({ kind: "from", sender: name(by), content }),
    }],
    reply: DELIVERY_SUCCESSFUL,
  });
  const toAll = (by: Actor, content: string): AppendixStep => ({
    at: "",
    by,
    command: formatToAll(content),
    deliveries: (["jacky", "bob", "michael"] as const)
      .filter((actor) => actor !== by)
      .map((actor) => ({
        to: actor,
        line: formatDelivery({
          kind: "broadcastfrom",
          sender: name(by),
          content,
        }),
      })),
    reply: DELIVERY_SUCCESSFUL,
  });
  const steps: [string, AppendixStep][] = [
    ["00:20", {
      at: "",
      by: "jacky",
      command: LIST,
      deliveries: [],
      reply: undefined,
    }],
    ["00:30", to("jacky", "bob", "Hello! Nice to meet you!")],
    ["00:40", to("jacky", "michael", "Hi, Michael!")],
    ["00:49", to("michael", "jacky", "Hi, Jacky!")],
    ["01:00", toAll("jacky", "How about meeting at 3pm today?")],
    ["01:09", to("bob", "jacky", "Jacky, nice to meet you too!")],
    ["01:29", toAll("bob", "OK.")],
    ["01:39", toAll("michael", "No problem.")],
  ];
  return steps.map(([at, step]) => ({ ...step, at }));
}

/** The Appendix's answer to jacky's `/list`, names in its order. */
export function appendixList(name: (actor: Actor) => string): string {
  return formatList([name("jacky"), name("bob"), name("michael")]);
}

/** jacky's last command. */
export const APPENDIX_EXIT = EXIT;
