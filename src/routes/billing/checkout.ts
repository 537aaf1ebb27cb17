import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { createCheckout } from "../../billing/checkout.ts";
import { createStripe } from "../../billing/stripe.ts";
import { errorResponses } from "../../errors/responses.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { IDEMPOTENCY_KEY_PARAMETER, idempotencyKey } from "../../middleware/idempotency-key.ts";
import { perAccount, rateLimit } from "../../middleware/rate-limit.ts";
import { SESSION_OR_KEY } from "../security.ts";

export const CheckoutRequest = z
  .object({
    pack_id: z
      .string()
      .min(1)
      .max(40)
      .openapi({ description: "From GET /api/billing/packs.", example: "starter" }),
    return_origin: z.string().max(255).optional().openapi({
      description:
        "Where Checkout returns the customer: one of PUBLIC_ORIGIN_ALLOWLIST (default: the first).",
      example: "https://app.tollgate.example",
    }),
    return_path: z.string().max(512).optional().openapi({
      description: "A path on that origin (default `/`); `checkout=success|cancel` is appended.",
      example: "/billing",
    }),
  })
  .openapi("CheckoutRequest");

export const CheckoutResponse = z
  .object({
    id: z.string().openapi({ description: "The Stripe Checkout Session id.", example: "cs_test_a1b2c3" }),
    url: z.string().openapi({
      description: "Send the customer here to pay.",
      example: "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
    }),
    pack_id: z.string().openapi({ example: "starter" }),
    credits: z.number().int().openapi({ example: 1000 }),
    amount: z.number().int().openapi({ example: 1000 }),
    currency: z.string().openapi({ example: "usd" }),
    expires_at: z.string().openapi({ example: "2026-11-29T12:00:00.000Z" }),
  })
  .openapi("Checkout");

export const route = createRoute({
  method: "post",
  path: "/api/billing/checkout",
  tags: ["billing"],
  summary: "Buy a credit pack with Stripe Checkout",
  description:
    "Creates a Stripe Checkout Session for the pack. The credits arrive once Stripe reports the payment (webhook), exactly once. Idempotent per account and Idempotency-Key: a replay answers the same session with `Idempotent-Replayed: true`.",
  security: SESSION_OR_KEY,
  middleware: [
    authenticate(),
    rateLimit(perAccount("CHECKOUT_RATE_LIMITER", "billing.checkout")),
    idempotencyKey(),
  ] as const,
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  request: {
    body: { content: { "application/json": { schema: CheckoutRequest } }, required: true },
  },
  responses: {
    201: {
      description: "The Checkout Session, new or replayed",
      headers: z.object({ "Idempotent-Replayed": z.literal("true").optional() }),
      content: { "application/json": { schema: CheckoutResponse } },
    },
    ...errorResponses(
      "validation_failed",
      "invalid_json",
      "idempotency_key_invalid",
      "unauthorized",
      "origin_not_allowed",
      "idempotency_request_in_progress",
      "idempotency_key_reused",
      "rate_limited",
      "upstream_error",
      "service_unavailable",
    ),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const { config, database } = c.get("services");
  const { accountId } = c.get("caller");
  const checkout = await createCheckout(
    { config, database, stripe: createStripe(config) },
    {
      accountId,
      idempotencyKey: c.get("idempotencyKey"),
      packId: body.pack_id,
      returnOrigin: body.return_origin,
      returnPath: body.return_path,
    },
  );
  if (checkout.replayed) c.header("idempotent-replayed", "true");
  c.header("cache-control", "no-store");
  return c.json(
    {
      id: checkout.id,
      url: checkout.url,
      pack_id: checkout.pack.id,
      credits: checkout.pack.credits,
      amount: checkout.pack.amount,
      currency: checkout.pack.currency,
      expires_at: checkout.expiresAt.toISOString(),
    },
    201,
  );
};
