import type Stripe from "stripe";
import { alertOps, fulfilCheckout, isFulfilmentEvent, planFulfilment } from "../billing/index.ts";
import { createStripe, stripeFailure } from "../billing/stripe.ts";
import type { Config } from "../config/index.ts";
import type { StripeEventStatus } from "../db/schema/index.ts";
import { ApiError } from "../errors/api-error.ts";
import type { OpsDatabase } from "./metrics.ts";

export type WebhookFailure = {
  id: number;
  event_id: string | null;
  event_type: string | null;
  reason: string;
  detail: string | null;
  failures: number;
  last_failed_at: string;
};

type Row = Record<string, unknown>;

export function toWebhookFailure(row: Row): WebhookFailure {
  return {
    id: Number(row.id),
    event_id: (row.event_id as string | null) ?? null,
    event_type: (row.event_type as string | null) ?? null,
    reason: String(row.reason),
    detail: (row.detail as string | null) ?? null,
    failures: Number(row.failures),
    last_failed_at: new Date((row.last_failed_at ?? row.created_at) as string).toISOString(),
  };
}

/** Failed deliveries whose event is still unprocessed, one per event (`ops_webhook_failures()`). */
export async function listWebhookFailures(database: OpsDatabase, limit = 50): Promise<WebhookFailure[]> {
  const rows = (await database.sql.query("select * from ops_webhook_failures($1)", [limit])) as Row[];
  return rows.map(toWebhookFailure);
}

export const STRIPE_EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;

export type ReprocessResult = {
  event_id: string;
  event_type: string;
  outcome: "processed" | "already_processed";
  status: StripeEventStatus;
  reason: string | null;
  credits: number | null;
};

/**
 * Reprocesses a webhook event that failed on Tollgate's side: fetches it from Stripe (so nothing a
 * caller sends is trusted) and runs it through the webhook's own fulfilment — `planFulfilment` and
 * the one-statement `fulfil_checkout()` — so it credits at most once even if Stripe's retry arrives
 * at the same moment.
 */
export async function reprocessWebhookEvent(
  config: Config,
  database: OpsDatabase,
  eventId: string,
  deps: { stripe?: Stripe } = {},
): Promise<ReprocessResult> {
  const stripe = deps.stripe ?? createStripe(config);
  let event: Stripe.Event;
  try {
    event = await stripe.events.retrieve(eventId);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404)
      throw new ApiError("not_found", `Stripe has no event ${eventId}.`);
    throw stripeFailure(error);
  }
  if (!isFulfilmentEvent(event.type)) {
    throw new ApiError("conflict", `Event ${eventId} is a ${event.type}, which fulfilment does not handle.`);
  }
  const session = event.data.object as Stripe.Checkout.Session;
  const plan = planFulfilment(
    { id: event.id, type: event.type, source: "webhook" },
    session,
    config.CREDIT_PACKS,
  );
  const result = await fulfilCheckout(database, plan);
  if (!result.duplicate && result.status === "rejected") {
    alertOps("checkout_rejected", { session_id: session.id, reason: result.reason, source: "ops_reprocess" });
  }
  return {
    event_id: event.id,
    event_type: event.type,
    outcome: result.duplicate ? "already_processed" : "processed",
    status: result.status,
    reason: result.reason,
    credits: result.credits,
  };
}
