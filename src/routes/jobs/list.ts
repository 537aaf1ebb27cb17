import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { JOB_STATUSES } from "../../db/schema/jobs.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { type JobCursor, listJobs } from "../../jobs/store.ts";
import { type JobSnapshot, toJobView } from "../../jobs/view.ts";
import { base64urlText, fromBase64urlText } from "../../lib/encoding.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { perAccount, rateLimit } from "../../middleware/rate-limit.ts";
import { SESSION_OR_KEY } from "../security.ts";
import { JobSchema } from "./schema.ts";

export const ListJobsQuery = z.object({
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional().openapi({ description: "`next_cursor` of the previous page." }),
});

export const ListJobsResponse = z
  .object({
    data: z.array(JobSchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next page; null at the end." }),
  })
  .openapi("JobList");

export const route = createRoute({
  method: "get",
  path: "/api/jobs",
  tags: ["jobs"],
  summary: "List jobs",
  description: "The caller's jobs, newest first, optionally of one status; keyset-paginated.",
  security: SESSION_OR_KEY,
  middleware: [authenticate(), rateLimit(perAccount("JOBS_RATE_LIMITER", "jobs.read"))] as const,
  request: { query: ListJobsQuery },
  responses: {
    200: { description: "A page of jobs", content: { "application/json": { schema: ListJobsResponse } } },
    ...errorResponses("validation_failed", "unauthorized", "rate_limited"),
  },
});

const CURSOR = /^(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d))\|([0-9a-f-]{36})$/i;

/**
 * The position after the last job of a page: its created_at as Postgres wrote it (microseconds, which a
 * JavaScript Date would round away) and its id, base64url-encoded so clients treat it as opaque.
 */
function encodeCursor(job: JobSnapshot): string {
  return base64urlText(`${job.created_at}|${job.id}`);
}

function decodeCursor(cursor: string): JobCursor {
  const match = CURSOR.exec(fromBase64urlText(cursor) ?? "");
  if (!match?.[1] || !match[2] || Number.isNaN(Date.parse(match[1]))) {
    throw new ApiError("validation_failed", "The request did not match the schema.", {
      errors: [{ path: "cursor", message: "Not a cursor from this API; start again without one." }],
    });
  }
  return { createdAt: match[1], id: match[2] };
}

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { status, limit, cursor } = c.req.valid("query");
  const after = cursor ? decodeCursor(cursor) : undefined;
  const page = await listJobs(c.get("services").database, c.get("caller").accountId, {
    status,
    after,
    limit: limit + 1,
  });
  const last = page.at(limit - 1);
  return c.json(
    {
      data: page.slice(0, limit).map(toJobView),
      next_cursor: page.length > limit && last ? encodeCursor(last) : null,
    },
    200,
  );
};
