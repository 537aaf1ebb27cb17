import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { errorResponses } from "../errors/responses.ts";
import { createRouter } from "./router.ts";

export const HealthResponse = z
  .object({ ok: z.literal(true), service: z.literal("tollgate") })
  .openapi("Health");

export const route = createRoute({
  method: "get",
  path: "/api/health",
  tags: ["ops"],
  summary: "Liveness",
  description: "Answers as long as the Worker runs. Never touches the database.",
  responses: {
    200: { description: "Alive", content: { "application/json": { schema: HealthResponse } } },
    ...errorResponses(),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) =>
  c.json({ ok: true as const, service: "tollgate" as const }, 200);

export const healthRoutes = createRouter().openapi(route, handler);
