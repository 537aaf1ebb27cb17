import { createRouter } from "../router.ts";
import * as checkout from "./checkout.ts";
import * as ledger from "./ledger.ts";
import * as packs from "./packs.ts";
import * as stripeWebhook from "./stripe/webhook.ts";

export const billingRoutes = createRouter()
  .openapi(packs.route, packs.handler)
  .openapi(checkout.route, checkout.handler)
  .openapi(ledger.route, ledger.handler)
  .openapi(stripeWebhook.route, stripeWebhook.handler);
