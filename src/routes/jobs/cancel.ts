import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { cancelJob } from "../../jobs/store.ts";
import { toJobView } from "../../jobs/view.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { perAccount, rateLimit } from "../../middleware/rate-limit.ts";
import { SESSION_OR_KEY } from "../security.ts";
import { assertJobId, JobIdParams, JobSchema, jobNotFound } from "./schema.ts";

export const route = createRoute({
  method: "post",
  path: "/api/jobs/{id}/cancel",
  tags: ["jobs"],
  summary: "Cancel a queued job",
  description:
    "A queued job becomes `canceled` and its hold is released, once; canceling it again answers the canceled job. A job that is running or finished cannot be canceled: 409 `conflict`.",
  security: SESSION_OR_KEY,
  middleware: [authenticate(), rateLimit(perAccount("JOBS_RATE_LIMITER", "jobs.cancel"))] as const,
  request: { params: JobIdParams },
  responses: {
    200: { description: "Canceled", content: { "application/json": { schema: JobSchema } } },
    ...errorResponses("unauthorized", "origin_not_allowed", "not_found", "conflict", "rate_limited"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  assertJobId(id);
  const { database } = c.get("services");
  const { accountId } = c.get("caller");
  const { outcome, job } = await cancelJob(database, accountId, id);
  if (outcome === "not_found" || !job) throw jobNotFound();
  if (outcome === "conflict") {
    throw new ApiError("conflict", `The job is ${job.status}; only a queued job can be canceled.`);
  }
  return c.json(toJobView(job), 200);
};
