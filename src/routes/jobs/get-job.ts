import { createRoute, type RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { authenticate } from "../../auth/authenticate.ts";
import { SESSION_OR_KEY } from "../../auth/openapi.ts";
import { errorResponses } from "../../errors/responses.ts";
import { JobSchema, type JobSnapshot, toJobView } from "../../jobs/view.ts";
import { perAccount, rateLimit } from "../../middleware/rate-limit.ts";
import { assertJobId, JobIdParams, jobNotFound } from "./schema.ts";

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
  const { database } = c.get("services");
  const { accountId } = c.get("caller");
  const rows = (await database.sql.query(
    "select to_jsonb(j) as job from jobs j where j.id = $1 and j.account_id = $2",
    [id, accountId],
  )) as { job: JobSnapshot }[];
  const row = rows[0];
  if (!row) throw jobNotFound();
  return c.json(toJobView(row.job), 200);
};
