import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../app-env.ts";
import { reprocessEvent } from "../../../billing/process-event.ts";
import { STRIPE_EVENT_STATUSES } from "../../../db/schema/index.ts";
import { errorResponses } from "../../../errors/responses.ts";
import { ADMIN_TOKEN } from "../../security.ts";
import { EventIdParams } from "../schema.ts";

export const ReprocessResponse = z
  .object({
    event_id: z.string(),
    event_type: z.string(),
    outcome: z.enum(["processed", "already_processed"]),
    status: z.enum(STRIPE_EVENT_STATUSES),
    reason: z.string().nullable(),
    credits: z.number().int().nullable(),
  })
  .openapi("WebhookReprocess");

export const route = createRoute({
  method: "post",
  path: "/api/ops/webhook-events/{id}/reprocess",
  tags: ["ops"],
  summary: "Reprocess a Stripe event",
  description:
    "Fetches the event from Stripe and runs it through the webhook's own fulfilment (one statement, at most one credit per Checkout Session). An event processed meanwhile answers `already_processed` and changes nothing.",
  security: ADMIN_TOKEN,
  request: { params: EventIdParams },
  responses: {
    200: { description: "Processed", content: { "application/json": { schema: ReprocessResponse } } },
    ...errorResponses("unauthorized", "validation_failed", "not_found", "conflict", "upstream_error"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await reprocessEvent(c.get("services"), id), 200);
};
