import Stripe from "stripe";
import { ApiError } from "../errors/api-error.ts";
import type { FulfilmentInput } from "./fulfil.ts";
import { type CreditPack, findPack } from "./packs.ts";
import { webhookCrypto } from "./stripe.ts";

/** Seconds a signature stays valid: Stripe's default, and the replay window an attacker gets. */
export const SIGNATURE_TOLERANCE_S = 300;

/** The events the webhook endpoint subscribes to (scripts/stripe-webhook.mjs) and handles. */
export const FULFILMENT_EVENTS = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
] as const;
export type FulfilmentEvent = (typeof FULFILMENT_EVENTS)[number];

export function isFulfilmentEvent(type: string): type is FulfilmentEvent {
  return (FULFILMENT_EVENTS as readonly string[]).includes(type);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Checks `Stripe-Signature` over the exact bytes received, against each configured secret in turn
 * (STRIPE_WEBHOOK_SECRET holds two during a rotation), with a 300 s tolerance. Every failure is the
 * same 400 `invalid_signature`, so the answer does not tell which part was wrong.
 */
export async function verifyWebhook(
  payload: string,
  signature: string | undefined,
  secrets: readonly string[],
): Promise<Stripe.Event> {
  if (secrets.length === 0) {
    throw new ApiError("service_unavailable", "Webhook signing is not configured (STRIPE_WEBHOOK_SECRET).");
  }
  if (!signature) throw new ApiError("invalid_signature", "The Stripe-Signature header is missing.");
  for (const secret of secrets) {
    try {
      return await Stripe.webhooks.constructEventAsync(
        payload,
        signature,
        secret,
        SIGNATURE_TOLERANCE_S,
        webhookCrypto,
      );
    } catch (error) {
      if (error instanceof Stripe.errors.StripeSignatureVerificationError) continue;
      // Signed by us-or-Stripe yet not JSON: nothing a retry would change.
      throw new ApiError("bad_request", "The webhook body is not a Stripe event.");
    }
  }
  throw new ApiError("invalid_signature", "The Stripe-Signature header does not match the body.");
}

/**
 * Why a session's data does not match what Tollgate sold, or undefined when it does. The metadata was
 * written by this server at checkout; the pack table (config) says what the pack costs and holds; the
 * amount and currency are what Stripe actually charged. Any disagreement means the metadata was edited
 * or the price list changed under a session: no credit, and ops look at it.
 */
export function sessionProblem(
  session: Stripe.Checkout.Session,
  packs: readonly CreditPack[],
): string | undefined {
  const metadata = session.metadata ?? {};
  const pack = findPack(packs, metadata.pack_id);
  if (!pack) return "unknown_pack";
  if (metadata.credits !== String(pack.credits)) return "credits_mismatch";
  if (session.amount_total !== pack.amount || session.currency !== pack.currency) return "amount_mismatch";
  const accountId = metadata.account_id ?? "";
  if (!UUID.test(accountId) || session.client_reference_id !== accountId) return "account_mismatch";
  if (session.mode !== "payment") return "not_a_payment";
  return undefined;
}

function metadataCredits(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * What to do with one event about one Checkout Session (also used by reconciliation, with its own
 * event id). Pure: the decision is made here, the effect in one SQL statement (`fulfilCheckout`).
 */
export function planFulfilment(
  event: { id: string; type: string; source: FulfilmentInput["source"] },
  session: Stripe.Checkout.Session,
  packs: readonly CreditPack[],
): FulfilmentInput {
  const metadata = session.metadata ?? {};
  const pack = findPack(packs, metadata.pack_id);
  const input: FulfilmentInput = {
    eventId: event.id,
    eventType: event.type,
    source: event.source,
    action: "credit",
    reason: null,
    sessionId: session.id,
    accountId: metadata.account_id ?? null,
    packId: metadata.pack_id ?? null,
    // The pack's credits once the checks pass; until then, what the metadata claimed (for the record).
    credits: pack?.credits ?? metadataCredits(metadata.credits),
    amount: session.amount_total ?? null,
    currency: session.currency ?? null,
  };
  if (metadata.account_id === undefined && metadata.pack_id === undefined) {
    // Another integration on the same Stripe account: not ours to credit or to alert about.
    return { ...input, action: "ignore", reason: "not_tollgate" };
  }
  if (event.type === "checkout.session.async_payment_failed") return { ...input, action: "fail" };
  const problem = sessionProblem(session, packs);
  if (problem)
    return { ...input, action: "reject", reason: problem, credits: metadataCredits(metadata.credits) };
  // A completed Checkout with a delayed payment method is not money yet: credit on async_payment_succeeded.
  if (session.payment_status !== "paid") return { ...input, action: "await" };
  return input;
}
