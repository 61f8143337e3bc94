/**
 * The NATS server killed under a running cluster, then restarted with its
 * store: see `support/nats_outage.ts` for what is checked.
 */

import { natsOutage } from "./support/nats_outage.ts";

Deno.test("cluster: NATS killed, then restarted with its store", async () => {
  await natsOutage(true);
});
