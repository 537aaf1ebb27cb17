import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../app-env.ts";
import { errorResponses } from "../../../errors/responses.ts";
import { retryDeadLetterOrThrow } from "../../../jobs/dead-letters.ts";
import { toJobView } from "../../../jobs/view.ts";
import { JobSchema } from "../../jobs/schema.ts";
import { ADMIN_TOKEN } from "../../security.ts";
import { UuidParams } from "../schema.ts";

export const RetryResponse = z
  .object({
    outcome: z.enum(["retried", "already_retried"]),
    job: JobSchema.openapi({ description: "The new job (a new hold), or the one an earlier retry created." }),
    queued: z
      .boolean()
      .openapi({ description: "Whether its queue message went out now (else the sweeper sends it)." }),
  })
  .openapi("DeadLetterRetry");

export const route = createRoute({
  method: "post",
  path: "/api/ops/dead-letters/{id}/retry",
  tags: ["ops"],
  summary: "Retry a dead letter",
  description:
    "Creates a NEW job with the same account, type, input and cost, and a NEW hold (the dead letter's hold was released; a hold resolves once). Refused with 402 when the account can no longer pay. At most once per dead letter: a second call answers the first retry.",
  security: ADMIN_TOKEN,
  request: { params: UuidParams },
  responses: {
    201: { description: "Retried", content: { "application/json": { schema: RetryResponse } } },
    200: { description: "Retried before", content: { "application/json": { schema: RetryResponse } } },
    ...errorResponses("unauthorized", "validation_failed", "insufficient_credits", "not_found", "conflict"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await retryDeadLetterOrThrow(c.env.JOBS_QUEUE, c.get("services").database, id);
  if (!result.job) throw new Error("retry_dead_letter answered no job");
  const body = {
    outcome: result.outcome as "retried" | "already_retried",
    job: toJobView(result.job),
    queued: result.queued,
  };
  return c.json(body, result.outcome === "retried" ? 201 : 200);
};
