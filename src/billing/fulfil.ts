import type { Database } from "../db/client.ts";
import type { StripeEventSource, StripeEventStatus } from "../db/schema/index.ts";
import { logEvent } from "../ops/log.ts";

export type BillingDatabase = Pick<Database, "sql">;

export type FulfilmentAction = "credit" | "await" | "fail" | "ignore" | "reject";

export type FulfilmentInput = {
  eventId: string;
  eventType: string;
  source: StripeEventSource;
  action: FulfilmentAction;
  reason: string | null;
  sessionId: string;
  accountId: string | null;
  packId: string | null;
  credits: number | null;
  amount: number | null;
  currency: string | null;
};

export type FulfilmentResult = {
  status: StripeEventStatus;
  reason: string | null;
  /** The event id had been processed before; nothing changed now. */
  duplicate: boolean;
  transferId: number | null;
  accountId: string | null;
  credits: number | null;
};

type FulfilmentRow = {
  status: StripeEventStatus;
  reason: string | null;
  duplicate: boolean;
  transfer_id: string | null;
  account_id: string | null;
  credits: string | null;
};

const FULFIL_SQL = `select status, reason, duplicate, transfer_id::text, account_id::text, credits::text
  from fulfil_checkout($1, $2, $3, $4, $5, $6, $7, $8, $9::bigint, $10::bigint, $11)`;

/**
 * Fulfils one Stripe event in ONE statement (`fulfil_checkout()`): records the event id, and for a
 * paid session credits the account once per session, both in the same transaction. A failure stores
 * nothing, so Stripe's retry starts clean; a redelivery answers `duplicate` and changes nothing.
 * Raw client on purpose: the error of a failed drizzle query quotes its parameters.
 */
export async function fulfilCheckout(
  database: BillingDatabase,
  input: FulfilmentInput,
): Promise<FulfilmentResult> {
  const rows = (await database.sql.query(FULFIL_SQL, [
    input.eventId,
    input.eventType,
    input.source,
    input.action,
    input.reason,
    input.sessionId,
    input.accountId,
    input.packId,
    input.credits,
    input.amount,
    input.currency,
  ])) as FulfilmentRow[];
  const row = rows[0];
  if (!row) throw new Error("billing: fulfil_checkout returned no row");
  return {
    status: row.status,
    reason: row.reason,
    duplicate: row.duplicate,
    transferId: row.transfer_id === null ? null : Number(row.transfer_id),
    accountId: row.account_id,
    credits: row.credits === null ? null : Number(row.credits),
  };
}

/**
 * Counts a delivery the database failed (for `webhook_failures_1h`), in a statement of its own since
 * the main one just failed. Best-effort: when the database is unreachable this fails too, and the log
 * line is all that is left; it never throws, so the caller's 5xx is what Stripe sees.
 */
export async function recordWebhookFailure(
  database: BillingDatabase,
  failure: { eventId: string | null; eventType: string | null; reason: string; detail: string | null },
): Promise<boolean> {
  try {
    await database.sql.query(
      "insert into webhook_failures (event_id, event_type, reason, detail) values ($1, $2, $3, $4)",
      [failure.eventId, failure.eventType, failure.reason, failure.detail],
    );
    return true;
  } catch (error) {
    logEvent("billing.webhook_failure_unrecorded", {
      event_id: failure.eventId,
      reason: failure.reason,
      error: errorCode(error),
    });
    return false;
  }
}

/** A Postgres error code or the error's class: enough to triage, never a message quoting values. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && code.length > 0) return code;
  return error instanceof Error ? error.name : typeof error;
}

/** The alert ops act on: a paid session Tollgate would not credit, or a credit reconciliation repaired. */
export function alertOps(alert: string, fields: Record<string, unknown>) {
  logEvent("billing.alert", { alert, ...fields });
}
