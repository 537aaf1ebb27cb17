import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { RECONCILE_LOOKBACK_MS, type ReconcileReport, reconcile } from "../../billing/reconcile.ts";
import { stripeFailure } from "../../billing/stripe.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { ADMIN_TOKEN } from "../security.ts";

/** Stripe lists Checkout Sessions of the last 30 days; older ones are a support case, not a repair. */
const MAX_LOOKBACK_MS = 30 * 24 * 60 * 60 * 1000;

export const ReconcileRequest = z
  .object({
    since: z.iso.datetime({ offset: true }).optional().openapi({
      description:
        "Check sessions created at or after this time (default: the last 72 hours; at most 30 days).",
      example: "2026-11-27T00:00:00Z",
    }),
  })
  .openapi("ReconcileRequest");

const RepairSchema = z.object({
  session_id: z.string(),
  account_id: z.string(),
  pack_id: z.string().nullable(),
  credits: z.number().int(),
  transfer_id: z.number().int(),
});

export const ReconcileResponse = z
  .object({
    since: z.string(),
    checked: z.number().int().openapi({ description: "Complete Checkout Sessions Stripe listed." }),
    missing: z.number().int().openapi({ description: "Paid sessions the ledger had not credited." }),
    repaired: z.array(RepairSchema).openapi({ description: "Credits made now; each one is also alerted." }),
    rejected: z.array(z.object({ session_id: z.string(), reason: z.string() })),
    truncated: z.boolean().openapi({ description: "More sessions than one run reads; run again." }),
  })
  .openapi("ReconcileReport");

export const route = createRoute({
  method: "post",
  path: "/api/ops/reconcile",
  tags: ["ops"],
  summary: "Reconcile Stripe Checkout with the ledger now",
  description:
    "What the hourly cron does: lists paid Checkout Sessions from Stripe and credits any the ledger lacks, exactly once (a webhook arriving at the same time still credits once).",
  security: ADMIN_TOKEN,
  request: { body: { content: { "application/json": { schema: ReconcileRequest } }, required: false } },
  responses: {
    200: {
      description: "What was checked and repaired",
      content: { "application/json": { schema: ReconcileResponse } },
    },
    ...errorResponses(
      "validation_failed",
      "invalid_json",
      "unauthorized",
      "upstream_error",
      "service_unavailable",
    ),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const body = c.req.valid("json") ?? {};
  const now = Date.now();
  const since = body.since ? new Date(body.since) : new Date(now - RECONCILE_LOOKBACK_MS);
  if (since.getTime() < now - MAX_LOOKBACK_MS) {
    const message = "since may be at most 30 days ago.";
    throw new ApiError("validation_failed", message, { errors: [{ path: "since", message }] });
  }
  let report: ReconcileReport;
  try {
    report = await reconcile(c.get("services"), since);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if ((error as { type?: string })?.type?.startsWith("Stripe")) throw stripeFailure(error);
    throw error;
  }
  c.header("cache-control", "no-store");
  return c.json(report, 200);
};
