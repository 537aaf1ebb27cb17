import type { BillingDatabase } from "./fulfil.ts";

export type BillingCounters = {
  /** Webhook deliveries the database failed plus events fulfilment rejected, in the last hour. */
  webhookFailures1h: number;
  /** Credits reconciliation had to make (a webhook never arrived or never succeeded), last 24 hours. */
  reconcileRepairs24h: number;
};

/** The billing numbers of `/api/ops/metrics` and the alert rules, in one statement. */
export async function billingCounters(database: BillingDatabase, now?: Date): Promise<BillingCounters> {
  const rows = (await database.sql.query(
    "select webhook_failures_1h::int, reconcile_repairs_24h::int from billing_counters(coalesce($1::timestamptz, now()))",
    [now?.toISOString() ?? null],
  )) as { webhook_failures_1h: number; reconcile_repairs_24h: number }[];
  const row = rows[0];
  return {
    webhookFailures1h: row?.webhook_failures_1h ?? 0,
    reconcileRepairs24h: row?.reconcile_repairs_24h ?? 0,
  };
}
