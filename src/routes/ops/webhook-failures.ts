import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { listWebhookFailures } from "../../billing/webhook-failures.ts";
import { errorResponses } from "../../errors/responses.ts";
import { ADMIN_TOKEN } from "../security.ts";
import { WebhookFailureSchema } from "./schema.ts";

export const route = createRoute({
  method: "get",
  path: "/api/ops/webhook-failures",
  tags: ["ops"],
  summary: "Failed webhook deliveries",
  description:
    "Stripe events whose delivery failed on Tollgate's side (last 7 days) and that are still unprocessed, one row per event, newest first.",
  security: ADMIN_TOKEN,
  responses: {
    200: {
      description: "The failures",
      content: { "application/json": { schema: z.object({ data: z.array(WebhookFailureSchema) }) } },
    },
    ...errorResponses("unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const data = await listWebhookFailures(c.get("services").database, 100);
  c.header("cache-control", "no-store");
  return c.json({ data }, 200);
};
