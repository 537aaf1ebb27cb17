import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { errorResponses } from "../errors/responses.ts";
import { checkReadiness } from "../ops/readiness.ts";
import { createRouter } from "./router.ts";

const CheckSchema = z.object({
  status: z.enum(["pass", "warn", "fail"]),
  detail: z.string(),
  problems: z.array(z.object({ rule: z.string(), variable: z.string(), message: z.string() })).optional(),
});

export const ReadyResponse = z
  .object({
    ok: z.boolean(),
    status: z.enum(["pass", "warn", "fail"]),
    checks: z.record(z.string(), CheckSchema),
  })
  .openapi("Readiness", {
    example: {
      ok: true,
      status: "pass",
      checks: {
        config: { status: "pass", detail: "valid for the environment" },
        database: { status: "pass", detail: "reachable" },
        schema: { status: "pass", detail: "at 0003_jobs" },
      },
    },
  });

export const route = createRoute({
  method: "get",
  path: "/api/ready",
  tags: ["ops"],
  summary: "Readiness",
  description:
    "ok=true only with the database reachable, the schema at the latest migration and the config valid for the environment. 503 when not ok. Never reveals a secret or a connection string.",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: ReadyResponse } } },
    503: { description: "Not ready", content: { "application/json": { schema: ReadyResponse } } },
    ...errorResponses(),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const readiness = await checkReadiness(c.env, c.get("configResult"));
  c.header("cache-control", "no-store");
  return readiness.ok ? c.json(readiness, 200) : c.json(readiness, 503);
};

export const readyRoutes = createRouter().openapi(route, handler);
