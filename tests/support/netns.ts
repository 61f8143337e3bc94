/**
 * A small network of test hosts on this machine: network namespaces joined by
 * a bridge (itself in a namespace of its own), with addresses in 10.77.0.0/24
 * that exist only inside them. Nothing is added to the machine's own
 * namespace, and everything is removed on disposal, even after a failure.
 * Needs root, as CI has.
 *
 * @module
 */

/** One host of a {@linkcode TestNetwork}. */
export interface TestHost {
  /** Its namespace. */
  namespace: string;
  /** Its address. */
  address: string;
  /** The command prefix that runs a program on this host. */
  exec: string[];
}

const SUBNET = "10.77.0";

/** Namespaces joined by a bridge: removed when disposed. */
export class TestNetwork implements AsyncDisposable {
  /** The hosts, addresses `10.77.0.1`, `10.77.0.2`, … */
  readonly hosts: TestHost[] = [];
  readonly #namespaces: string[] = [];

  /** Builds a network of `count` hosts. */
  static async create(count: number): Promise<TestNetwork> {
    const network = new TestNetwork();
    const tag = `imt${Deno.pid}${crypto.getRandomValues(new Uint8Array(1))[0]}`;
    const bridge = `${tag}br`;
    try {
      await network.#addNamespace(bridge);
      await ip("-n", bridge, "link", "add", "br0", "type", "bridge");
      await ip("-n", bridge, "link", "set", "br0", "up");
      for (let i = 1; i <= count; i++) {
        const namespace = `${tag}h${i}`;
        const address = `${SUBNET}.${i}`;
        await network.#addNamespace(namespace);
        await ip(
          "link",
          "add",
          "name",
          "eth0",
          "netns",
          namespace,
          "type",
          "veth",
          "peer",
          "name",
          `port${i}`,
          "netns",
          bridge,
        );
        await ip("-n", bridge, "link", "set", `port${i}`, "master", "br0");
        await ip("-n", bridge, "link", "set", `port${i}`, "up");
        await ip(
          "-n",
          namespace,
          "addr",
          "add",
          `${address}/24`,
          "dev",
          "eth0",
        );
        await ip("-n", namespace, "link", "set", "eth0", "up");
        await ip("-n", namespace, "link", "set", "lo", "up");
        network.hosts.push({
          namespace,
          address,
          exec: ["ip", "netns", "exec", namespace],
        });
      }
    } catch (error) {
      await network[Symbol.asyncDispose]();
      throw error;
    }
    return network;
  }

  /** Removes every namespace, and with them their links. */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const namespace of this.#namespaces.splice(0).reverse()) {
      await ip("netns", "del", namespace).catch(() => {});
    }
  }

  async #addNamespace(namespace: string): Promise<void> {
    await ip("netns", "add", namespace);
    this.#namespaces.push(namespace);
  }
}

/** Runs `ip` with `args`; throws with its error output if it fails. */
async function ip(...args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("ip", {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(
      `ip ${args.join(" ")} failed: ${new TextDecoder().decode(stderr).trim()}`,
    );
  }
}
