/**
 * Billing: credit packs, Stripe Checkout top-ups and their fulfilment (DESIGN §6). Amounts come from
 * the pack table only; a paid Checkout Session credits its account exactly once, whether the credit
 * arrives by webhook (any number of deliveries, in any order) or by reconciliation.
 */

export type { CheckoutInput, CheckoutResult } from "./checkout";
export { checkoutReturnUrls, createCheckout, isSafeReturnPath, stripeIdempotencyKey } from "./checkout";
export type { FulfilmentAction, FulfilmentInput, FulfilmentResult } from "./fulfil";
export { alertOps, errorCode, fulfilCheckout, recordWebhookFailure } from "./fulfil";
export type { BillingCounters } from "./metrics";
export { billingCounters } from "./metrics";
export type { CreditPack } from "./packs";
export { CreditPackSchema, DEFAULT_CREDIT_PACKS, findPack } from "./packs";
export type { ReconcileOptions, ReconcileReport, Repair } from "./reconcile";
export {
  RECONCILE_LOOKBACK_MS,
  reconcileCheckouts,
  reconcileCronTask,
  reconcileWithConfig,
} from "./reconcile";
export { createStripe, stripeTarget } from "./stripe";
export {
  FULFILMENT_EVENTS,
  isFulfilmentEvent,
  planFulfilment,
  SIGNATURE_TOLERANCE_S,
  verifyWebhook,
} from "./webhook";
