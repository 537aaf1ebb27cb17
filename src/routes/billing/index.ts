import { createRouter } from "../../lib/router.ts";
import * as getPacks from "./get-packs.ts";
import * as postCheckout from "./post-checkout.ts";
import * as postReconcile from "./post-reconcile.ts";
import * as postWebhook from "./post-webhook.ts";

/**
 * Packs, Checkout and the Stripe webhook; plus `/api/ops/reconcile`, which the app already guards with
 * the admin token (every /api/ops/* path). `/api/billing/ledger` lives with the ledger routes.
 */
export const billingRoutes = createRouter()
  .openapi(getPacks.route, getPacks.handler)
  .openapi(postCheckout.route, postCheckout.handler)
  .openapi(postWebhook.route, postWebhook.handler)
  .openapi(postReconcile.route, postReconcile.handler);
