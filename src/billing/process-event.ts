import type Stripe from "stripe";
import type { CreditPack } from "../config/credit-packs.ts";
import type { SqlClient } from "../db/client.ts";
import { ApiError } from "../errors/api-error.ts";
import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { type FulfilmentInput, type FulfilmentResult, fulfilCheckout } from "./fulfil.ts";
import { planFulfilment } from "./plan.ts";
import { createStripe, stripeFailure } from "./stripe.ts";
import { isFulfilmentEvent } from "./webhook.ts";

/** Who handed Tollgate the event: Stripe's webhook, an operator's reprocess, or reconciliation. */
export type EventOrigin = "webhook" | "ops_reprocess" | "reconcile";

export type ProcessedEvent = { plan: FulfilmentInput; result: FulfilmentResult };

/** The alert ops act on: a paid session Tollgate would not credit, or a credit reconciliation repaired. */
export function alertOps(alert: string, fields: Record<string, unknown>) {
  logEvent("billing.alert", { alert, ...fields });
}

/**
 * The one path from "Stripe says this happened to a Checkout Session" to the ledger, whoever brings the
 * event: decide (`planFulfilment`, pure), apply (`fulfil_checkout()`, one statement, once per event id
 * and once per session), and alert when a session does not match what Tollgate sold. Reconciliation
 * only repairs Tollgate's own sessions, so for it a session of another integration is not recorded at
 * all (undefined); the webhook records it as ignored.
 */
export async function processCheckoutEvent(
  deps: { database: SqlClient; packs: readonly CreditPack[] },
  event: { id: string; type: string },
  session: Stripe.Checkout.Session,
  origin: EventOrigin,
): Promise<ProcessedEvent | undefined> {
  const source = origin === "reconcile" ? "reconcile" : "webhook";
  const plan = planFulfilment({ id: event.id, type: event.type, source }, session, deps.packs);
  if (origin === "reconcile" && plan.action === "ignore") return undefined;
  const result = await fulfilCheckout(deps.database, plan);
  if (result.status === "rejected" && !result.duplicate) {
    alertOps("checkout_rejected", {
      event_id: event.id,
      type: event.type,
      session_id: session.id,
      reason: result.reason,
      source: origin,
    });
  }
  return { plan, result };
}

export type ReprocessResult = {
  event_id: string;
  event_type: string;
  outcome: "processed" | "already_processed";
  status: FulfilmentResult["status"];
  reason: string | null;
  credits: number | null;
};

/**
 * Reprocesses a webhook event that failed on Tollgate's side: fetches it from Stripe (so nothing a
 * caller sends is trusted) and runs it through the same path as the webhook, so it credits at most
 * once even if Stripe's retry arrives at the same moment.
 */
export async function reprocessEvent(
  { config, database }: Pick<Services, "config" | "database">,
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
  const processed = await processCheckoutEvent(
    { database, packs: config.CREDIT_PACKS },
    event,
    session,
    "ops_reprocess",
  );
  if (!processed) throw new Error("reprocess: the event was not processed");
  const { result } = processed;
  return {
    event_id: event.id,
    event_type: event.type,
    outcome: result.duplicate ? "already_processed" : "processed",
    status: result.status,
    reason: result.reason,
    credits: result.credits,
  };
}
