import { z } from "zod";
import { sqlFunction } from "../../src/db/call.ts";
import type { SqlClient } from "../../src/db/client.ts";
import { int64 } from "../../src/db/columns.ts";

export type BillingCounters = {
  /** Webhook deliveries the database failed plus events fulfilment rejected, in the last hour. */
  webhookFailures1h: number;
  /** Credits reconciliation had to make (a webhook never arrived or never succeeded), last 24 hours. */
  reconcileRepairs24h: number;
};

const billingCountersFn = sqlFunction(
  "billing_counters",
  { now: "timestamptz?" },
  z.object({ webhook_failures_1h: int64, reconcile_repairs_24h: int64 }),
);

/** The billing figures ops_metrics() reads, on their own (tests look at them around a webhook). */
export async function billingCounters(database: SqlClient, now?: Date): Promise<BillingCounters> {
  const row = await billingCountersFn.one(database, { now });
  return { webhookFailures1h: row.webhook_failures_1h, reconcileRepairs24h: row.reconcile_repairs_24h };
}
