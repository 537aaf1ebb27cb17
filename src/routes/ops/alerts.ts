import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { errorResponses } from "../../errors/responses.ts";
import { listAlertStates } from "../../ops/alerts/store.ts";
import { ADMIN_TOKEN } from "../security.ts";
import { AlertStateSchema } from "./schema.ts";

export const route = createRoute({
  method: "get",
  path: "/api/ops/alerts",
  tags: ["ops"],
  summary: "Alert rules and their state",
  description: "Each rule's last evaluation, firing rules first. The cron evaluates them every minute.",
  security: ADMIN_TOKEN,
  responses: {
    200: {
      description: "The rules",
      content: { "application/json": { schema: z.object({ data: z.array(AlertStateSchema) }) } },
    },
    ...errorResponses("unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const data = await listAlertStates(c.get("services").database);
  c.header("cache-control", "no-store");
  return c.json({ data }, 200);
};
