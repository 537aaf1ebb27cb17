import type Stripe from "stripe";
import { type CreditPack, findPack } from "../config/credit-packs.ts";
import { isCanonicalUuid } from "../lib/encoding.ts";
import type { FulfilmentInput } from "./fulfil.ts";

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
  if (!isCanonicalUuid(accountId) || session.client_reference_id !== accountId) return "account_mismatch";
  if (session.mode !== "payment") return "not_a_payment";
  return undefined;
}

function metadataCredits(value: string | undefined): number | null {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * What to do with one event about one Checkout Session (also used by reconciliation, with its own event id).
 * Pure: the decision is made here, the effect in one SQL statement (`fulfilCheckout`); `processCheckoutEvent`
 * runs both.
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
