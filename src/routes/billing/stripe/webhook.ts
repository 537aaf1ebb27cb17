import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type Stripe from "stripe";
import type { AppEnv } from "../../../app-env.ts";
import { type ProcessedEvent, processCheckoutEvent } from "../../../billing/process-event.ts";
import { isFulfilmentEvent, verifyWebhook } from "../../../billing/webhook.ts";
import { errorCode, recordWebhookFailure } from "../../../billing/webhook-failures.ts";
import { ApiError } from "../../../errors/api-error.ts";
import { errorResponses } from "../../../errors/responses.ts";
import { logEvent } from "../../../telemetry/log.ts";

export const WebhookResponse = z
  .object({
    received: z.literal(true),
    status: z.string().openapi({
      description:
        "What fulfilment did: credited, already_credited, awaiting_payment, payment_failed, ignored, rejected.",
      example: "credited",
    }),
    duplicate: z.boolean().openapi({ description: "The event had been processed before; nothing changed." }),
  })
  .openapi("WebhookReceipt");

export const route = createRoute({
  method: "post",
  path: "/api/billing/stripe/webhook",
  tags: ["billing"],
  summary: "Stripe webhook (fulfilment)",
  description:
    "For Stripe only: `Stripe-Signature` over the raw body, 300 s tolerance, any secret of STRIPE_WEBHOOK_SECRET. Handles `checkout.session.completed` (credits when paid), `checkout.session.async_payment_succeeded` and `checkout.session.async_payment_failed`; other types and duplicates answer 200 and change nothing. Each Checkout Session credits once, whatever the number and order of deliveries. A database failure answers 503 and stores nothing, so Stripe's retry credits once.",
  responses: {
    200: {
      description: "Processed, or nothing to do",
      content: { "application/json": { schema: WebhookResponse } },
    },
    ...errorResponses("invalid_signature", "bad_request", "service_unavailable"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { config, database } = c.get("services");
  // The body guard already read the body; Hono keeps the bytes, and these are the ones Stripe signed.
  const payload = await c.req.text();
  let event: Stripe.Event;
  try {
    event = await verifyWebhook(payload, c.req.header("stripe-signature"), config.STRIPE_WEBHOOK_SECRET);
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_signature") {
      // Not stored (anyone can post here); the log line shows a secret rotated on one side only.
      logEvent("billing.webhook_invalid_signature", { request_id: c.get("requestId") });
    }
    throw error;
  }
  if (!isFulfilmentEvent(event.type)) {
    return c.json({ received: true as const, status: "ignored", duplicate: false }, 200);
  }

  const session = event.data.object as Stripe.Checkout.Session;
  let processed: ProcessedEvent | undefined;
  try {
    processed = await processCheckoutEvent(
      { database, packs: config.CREDIT_PACKS },
      event,
      session,
      "webhook",
    );
  } catch (error) {
    const detail = errorCode(error);
    await recordWebhookFailure(database, {
      eventId: event.id,
      eventType: event.type,
      reason: "database_error",
      detail,
    });
    throw new ApiError("service_unavailable", "Could not process the event; Stripe will retry it.", {
      cause: new Error(`fulfil_checkout failed (${detail})`),
    });
  }
  if (!processed) throw new Error("webhook: the event was not processed");
  const { result } = processed;
  if (result.status !== "rejected" || result.duplicate) {
    logEvent("billing.webhook", {
      event_id: event.id,
      type: event.type,
      session_id: session.id,
      status: result.status,
      reason: result.reason,
      duplicate: result.duplicate,
    });
  }
  return c.json({ received: true as const, status: result.status, duplicate: result.duplicate }, 200);
};
