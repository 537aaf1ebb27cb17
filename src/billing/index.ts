/**
 * Billing: credit packs, Stripe Checkout top-ups and their fulfilment (DESIGN §6). Amounts come from
 * the pack table only; a paid Checkout Session credits its account exactly once, whether the credit
 * arrives by webhook (any number of deliveries, in any order) or by reconciliation.
 */

export type { CheckoutInput, CheckoutResult } from "./checkout.ts";
export { checkoutReturnUrls, createCheckout, isSafeReturnPath, stripeIdempotencyKey } from "./checkout.ts";
export type { FulfilmentAction, FulfilmentInput, FulfilmentResult } from "./fulfil.ts";
export { alertOps, errorCode, fulfilCheckout, recordWebhookFailure } from "./fulfil.ts";
export type { BillingCounters } from "./metrics.ts";
export { billingCounters } from "./metrics.ts";
export type { CreditPack } from "./packs.ts";
export { CreditPackSchema, DEFAULT_CREDIT_PACKS, findPack } from "./packs.ts";
export type { ReconcileOptions, ReconcileReport, Repair } from "./reconcile.ts";
export {
  RECONCILE_LOOKBACK_MS,
  reconcileCheckouts,
  reconcileCronTask,
  reconcileWithConfig,
} from "./reconcile.ts";
export { createStripe, stripeTarget } from "./stripe.ts";
export {
  FULFILMENT_EVENTS,
  isFulfilmentEvent,
  planFulfilment,
  SIGNATURE_TOLERANCE_S,
  verifyWebhook,
} from "./webhook.ts";
