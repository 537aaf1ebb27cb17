import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../app-env.ts";
import { errorResponses } from "../../../errors/responses.ts";
import { listDeadLetters } from "../../../jobs/dead-letters.ts";
import { ADMIN_TOKEN } from "../../security.ts";
import { DeadLetterSchema } from "../schema.ts";

export const route = createRoute({
  method: "get",
  path: "/api/ops/dead-letters",
  tags: ["ops"],
  summary: "Dead letters",
  description: "Dead-lettered jobs not retried yet, newest first (at most 100).",
  security: ADMIN_TOKEN,
  responses: {
    200: {
      description: "The dead letters",
      content: { "application/json": { schema: z.object({ data: z.array(DeadLetterSchema) }) } },
    },
    ...errorResponses("unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const data = await listDeadLetters(c.get("services").database, 100);
  c.header("cache-control", "no-store");
  return c.json({ data }, 200);
};
