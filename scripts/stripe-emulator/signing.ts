import { createHmac } from "node:crypto";
import { nowSeconds, randomToken } from "./util.ts";

/**
 * The `Stripe-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<payload>">`,
 * keyed with the whole `whsec_...` string, exactly what `stripe.webhooks.constructEvent` checks.
 */
export function signatureHeader(payload: string, secret: string, timestamp = nowSeconds()) {
  const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${signature}`;
}

export const newWebhookSecret = () => `whsec_${randomToken(32)}`;
