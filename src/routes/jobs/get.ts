import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { errorResponses } from "../../errors/responses.ts";
import { getJob } from "../../jobs/store.ts";
import { toJobView } from "../../jobs/view.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { perAccount, rateLimit } from "../../middleware/rate-limit.ts";
import { SESSION_OR_KEY } from "../security.ts";
import { assertJobId, JobIdParams, JobSchema, jobNotFound } from "./schema.ts";

export const route = createRoute({
  method: "get",
  path: "/api/jobs/{id}",
  tags: ["jobs"],
  summary: "Get a job",
  description: "Another account's job is a 404, exactly like a job that does not exist.",
  security: SESSION_OR_KEY,
  middleware: [authenticate(), rateLimit(perAccount("JOBS_RATE_LIMITER", "jobs.read"))] as const,
  request: { params: JobIdParams },
  responses: {
    200: { description: "The job", content: { "application/json": { schema: JobSchema } } },
    ...errorResponses("unauthorized", "not_found", "rate_limited"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  assertJobId(id);
  const job = await getJob(c.get("services").database, c.get("caller").accountId, id);
  if (!job) throw jobNotFound();
  return c.json(toJobView(job), 200);
};
