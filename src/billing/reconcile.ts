import type Stripe from "stripe";
import { z } from "zod";
import type { CreditPack } from "../config/credit-packs.ts";
import { sqlQuery } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { alertOps, processCheckoutEvent } from "./process-event.ts";
import { createStripe } from "./stripe.ts";

/** The hourly run looks this far back: Checkout Sessions expire after 24 h, async payments settle later. */
export const RECONCILE_LOOKBACK_MS = 72 * 60 * 60 * 1000;
export type ReconcileOptions = {
  /** Sessions per Stripe list call (Stripe's maximum is 100). */
  pageSize?: number;
  /** Bounds one run (Workers have a time limit); whatever is left, the next run picks up. */
  maxPages?: number;
};

export type Repair = {
  session_id: string;
  account_id: string;
  pack_id: string | null;
  credits: number;
  transfer_id: number;
};

export type ReconcileReport = {
  since: string;
  /** Complete sessions Stripe listed. */
  checked: number;
  /** Of those, paid ones the ledger had not credited when the page was read. */
  missing: number;
  repaired: Repair[];
  rejected: { session_id: string; reason: string }[];
  truncated: boolean;
};

/** One statement per page: which of these paid sessions has no top-up and no earlier repair attempt. */
async function uncredited(database: SqlClient, sessionIds: string[]): Promise<Set<string>> {
  if (sessionIds.length === 0) return new Set();
  const rows = await sqlQuery(
    database,
    "uncredited sessions",
    `select s.id from unnest($1::text[]) as s (id)
     where not exists (select 1 from transfers t where t.kind = 'top_up' and t.ref = 'checkout:' || s.id)
       and not exists (select 1 from stripe_events e where e.event_id = 'reconcile:' || s.id)`,
    [sessionIds],
    z.object({ id: z.string() }),
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Lists the Checkout Sessions Stripe completed since `since` and credits every paid one the ledger
 * lacks, through the webhook's own statement (`fulfil_checkout`, event id `reconcile:<session>`), so a
 * webhook arriving at the same moment still credits once. Every repair is recorded (stripe_events,
 * source `reconcile`, counted by `reconcile_repairs_24h`) and alerted: it means a webhook went missing.
 */
export async function reconcileCheckouts(
  deps: { stripe: Stripe; database: SqlClient; packs: readonly CreditPack[] },
  since: Date,
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const pageSize = options.pageSize ?? 100;
  const maxPages = options.maxPages ?? 50;
  const report: ReconcileReport = {
    since: since.toISOString(),
    checked: 0,
    missing: 0,
    repaired: [],
    rejected: [],
    truncated: false,
  };
  const created = { gte: Math.floor(since.getTime() / 1000) };
  let startingAfter: string | undefined;
  for (let page = 0; ; page++) {
    if (page === maxPages) {
      report.truncated = true;
      break;
    }
    const list = await deps.stripe.checkout.sessions.list({
      created,
      status: "complete",
      limit: pageSize,
      ...(startingAfter ? { starting_after: startingAfter } : {}),
    });
    report.checked += list.data.length;
    const paid = list.data.filter((s) => s.payment_status === "paid");
    const missing = await uncredited(
      deps.database,
      paid.map((s) => s.id),
    );
    for (const session of paid) {
      if (!missing.has(session.id)) continue;
      const processed = await processCheckoutEvent(
        deps,
        { id: `reconcile:${session.id}`, type: "reconcile" },
        session,
        "reconcile",
      );
      if (!processed) continue;
      report.missing += 1;
      const { plan, result } = processed;
      if (result.duplicate) continue;
      if (result.status === "credited" && result.accountId && result.credits && result.transferId) {
        const repair = {
          session_id: session.id,
          account_id: result.accountId,
          pack_id: plan.packId,
          credits: result.credits,
          transfer_id: result.transferId,
        };
        report.repaired.push(repair);
        alertOps("reconcile_repair", repair);
      } else if (result.status === "rejected") {
        report.rejected.push({ session_id: session.id, reason: result.reason ?? "rejected" });
      }
    }
    const last = list.data.at(-1);
    if (!list.has_more || !last) break;
    startingAfter = last.id;
  }
  logEvent("billing.reconciled", {
    since: report.since,
    checked: report.checked,
    missing: report.missing,
    repaired: report.repaired.length,
    rejected: report.rejected.length,
    truncated: report.truncated,
  });
  return report;
}

/** Reconciliation with this invocation's services: the hourly cron and POST /api/ops/reconcile. */
export function reconcile(
  { config, database }: Pick<Services, "config" | "database">,
  since = new Date(Date.now() - RECONCILE_LOOKBACK_MS),
) {
  return reconcileCheckouts({ stripe: createStripe(config), database, packs: config.CREDIT_PACKS }, since);
}
