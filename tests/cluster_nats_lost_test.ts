/**
 * The NATS server killed under a running cluster, then restarted without its
 * store (the presence bucket is lost): see `support/nats_outage.ts` for what
 * is checked.
 */

import { natsOutage } from "./support/nats_outage.ts";

Deno.test("cluster: NATS killed, then restarted without its store", async () => {
  await natsOutage(false);
});
