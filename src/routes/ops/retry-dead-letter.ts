import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { ADMIN_TOKEN } from "../../auth/openapi.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { JobSchema, toJobView } from "../../jobs/view.ts";
import { type RetryResult, retryDeadLetter } from "../../ops/dead-letters.ts";
import type { OpsDatabase } from "../../ops/metrics.ts";
import { UuidParams } from "./schema.ts";

export const RetryResponse = z
  .object({
    outcome: z.enum(["retried", "already_retried"]),
    job: JobSchema.openapi({ description: "The new job (a new hold), or the one an earlier retry created." }),
    queued: z
      .boolean()
      .openapi({ description: "Whether its queue message went out now (else the sweeper sends it)." }),
  })
  .openapi("DeadLetterRetry");

/**
 * Runs the retry and turns a refusal into the error contract; shared with the console's button.
 * Insufficient credits is a 402 like on POST /api/jobs: the new job needs a new hold.
 */
export async function retryOrThrow(
  queue: Queue | undefined,
  database: OpsDatabase,
  id: string,
): Promise<RetryResult> {
  const result = await retryDeadLetter(queue, database, id.toLowerCase());
  switch (result.outcome) {
    case "retried":
    case "already_retried":
      return result;
    case "not_found":
      throw new ApiError("not_found", `No job ${id}.`);
    case "not_dead_lettered":
      throw new ApiError("conflict", `Job ${id} is ${result.reason}, not dead_lettered.`);
    default:
      if (result.reason === "insufficient_credits") {
        throw new ApiError(
          "insufficient_credits",
          `The account has ${result.available ?? 0} credits available; the retry needs a new hold. Top up, then retry.`,
        );
      }
      throw new ApiError("conflict", `The retry was refused: ${result.reason ?? "unknown"}.`);
  }
}

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
  const result = await retryOrThrow(c.env.JOBS_QUEUE, c.get("services").database, id);
  if (!result.job) throw new Error("retry_dead_letter answered no job");
  const body = {
    outcome: result.outcome as "retried" | "already_retried",
    job: toJobView(result.job),
    queued: result.queued,
  };
  return c.json(body, result.outcome === "retried" ? 201 : 200);
};
