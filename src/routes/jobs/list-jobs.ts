import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { authenticate } from "../../auth/authenticate.ts";
import { SESSION_OR_KEY } from "../../auth/openapi.ts";
import { JOB_STATUSES } from "../../db/schema/jobs.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { JobSchema, type JobSnapshot, toJobView } from "../../jobs/view.ts";
import { perAccount, rateLimit } from "../../middleware/rate-limit.ts";

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

type Cursor = { createdAt: string; id: string };
const CURSOR = /^(\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d))\|([0-9a-f-]{36})$/i;

/**
 * The position after the last job of a page: its created_at as Postgres wrote it (microseconds, which a
 * JavaScript Date would round away) and its id, base64url-encoded so clients treat it as opaque.
 */
function encodeCursor(job: JobSnapshot): string {
  return btoa(`${job.created_at}|${job.id}`).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

function decodeCursor(cursor: string): Cursor {
  let text = "";
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    // falls through to the pattern check
  }
  const match = CURSOR.exec(text);
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
  const { database } = c.get("services");
  const { accountId } = c.get("caller");
  const rows = (await database.sql.query(
    `select to_jsonb(j) as job from jobs j
     where j.account_id = $1 and ($2::text is null or j.status = $2)
       and ($3::timestamptz is null or (j.created_at, j.id) < ($3::timestamptz, $4::uuid))
     order by j.created_at desc, j.id desc
     limit $5`,
    [accountId, status ?? null, after?.createdAt ?? null, after?.id ?? null, limit + 1],
  )) as { job: JobSnapshot }[];
  const page = rows.slice(0, limit).map((row) => row.job);
  const last = page.at(-1);
  return c.json(
    { data: page.map(toJobView), next_cursor: rows.length > limit && last ? encodeCursor(last) : null },
    200,
  );
};
