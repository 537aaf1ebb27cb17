import { z } from "@hono/zod-openapi";
import { JOB_STATUSES } from "../../db/schema/jobs.ts";
import { ApiError } from "../../errors/api-error.ts";
import { isUuid } from "../../lib/encoding.ts";

export const JOB_ID_EXAMPLE = "0b7e6f3a-52c1-4d8e-9f10-3a2b1c4d5e6f";
const TIME_EXAMPLE = "2026-11-28T12:00:00.000Z";

export const JobIdParams = z.object({ id: z.string().openapi({ example: JOB_ID_EXAMPLE }) });

export const JobSchema = z
  .object({
    id: z.string().openapi({ example: JOB_ID_EXAMPLE }),
    type: z.string().openapi({ example: "echo" }),
    status: z.enum(JOB_STATUSES).openapi({
      description:
        "queued → running → succeeded | failed | dead_lettered; queued → canceled; a hold past its TTL → expired.",
    }),
    input: z.record(z.string(), z.unknown()).openapi({ example: { message: "hello" } }),
    output: z.unknown().nullable().openapi({ description: "Set when the job succeeded." }),
    cost: z
      .number()
      .int()
      .openapi({ description: "Credits held for the job: the most it can cost.", example: 10 }),
    charged: z.number().int().nullable().openapi({
      description: "Credits captured when it succeeded; the rest of the hold was released.",
      example: null,
    }),
    attempts: z.number().int().openapi({ example: 0 }),
    max_attempts: z.number().int().openapi({ example: 5 }),
    error: z.string().nullable().openapi({ description: "The last attempt's error, if any.", example: null }),
    created_at: z.string().openapi({ example: TIME_EXAMPLE }),
    updated_at: z.string().openapi({ example: TIME_EXAMPLE }),
    started_at: z.string().nullable().openapi({ example: null }),
    finished_at: z.string().nullable().openapi({ example: null }),
  })
  .openapi("Job");

/**
 * Another account's job, a job that does not exist and a malformed id all get this same answer, so
 * the API never says whether an id exists elsewhere.
 */
export function jobNotFound() {
  return new ApiError("not_found", "No such job.");
}

export function assertJobId(id: string) {
  if (!isUuid(id)) throw jobNotFound();
}
