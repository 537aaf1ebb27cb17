import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { errorResponses } from "../../errors/responses.ts";
import { readMetrics } from "../../ops/metrics.ts";
import { PROMETHEUS_CONTENT_TYPE, toPrometheus, wantsPrometheus } from "../../ops/prometheus.ts";
import { ADMIN_TOKEN } from "../security.ts";
import { MetricsSchema } from "./schema.ts";

export const route = createRoute({
  method: "get",
  path: "/api/ops/metrics",
  tags: ["ops"],
  summary: "Operational metrics",
  description:
    "Every figure in one database round trip (`ops_metrics()`). `Accept: text/plain` (what Prometheus sends) answers the same figures in the Prometheus text exposition format, prefixed `tollgate_`.",
  security: ADMIN_TOKEN,
  responses: {
    200: {
      description: "The figures",
      content: {
        "application/json": { schema: MetricsSchema },
        "text/plain": { schema: z.string().openapi({ example: "# HELP tollgate_queue_depth ...\n" }) },
      },
    },
    ...errorResponses("unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const metrics = await readMetrics(c.get("services").database);
  c.header("cache-control", "no-store");
  c.header("vary", "Accept");
  if (wantsPrometheus(c.req.header("accept"))) {
    return c.text(toPrometheus(metrics), 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  }
  return c.json({ ...metrics, request_id: c.get("requestId") }, 200);
};
