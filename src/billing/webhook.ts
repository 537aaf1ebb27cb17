import Stripe from "stripe";
import { ApiError } from "../errors/api-error.ts";
import { webhookCrypto } from "./stripe.ts";

/** Seconds a signature stays valid: Stripe's default, and the replay window an attacker gets. */
export const SIGNATURE_TOLERANCE_S = 300;

/** The events the webhook endpoint subscribes to (npm run stripe:webhook) and handles. */
export const FULFILMENT_EVENTS = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
] as const;
export type FulfilmentEvent = (typeof FULFILMENT_EVENTS)[number];

export function isFulfilmentEvent(type: string): type is FulfilmentEvent {
  return (FULFILMENT_EVENTS as readonly string[]).includes(type);
}

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

/** A Stripe event id, as the ops endpoints and the console accept it. */
export const STRIPE_EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;
