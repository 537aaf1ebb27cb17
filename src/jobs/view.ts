import { z } from "@hono/zod-openapi";
import { JOB_STATUSES, type JobStatus } from "../db/schema/jobs.ts";

/**
 * A job row as Postgres' `to_jsonb(jobs)` writes it. The functions answer in this shape, and the
 * Idempotency-Key stores it, so a replay renders exactly the body the first request got.
 */
export type JobSnapshot = {
  id: string;
  account_id: string;
  type: string;
  input: unknown;
  status: JobStatus;
  hold_id: number;
  cost: number;
  charged: number | null;
  output: unknown;
  last_error: string | null;
  attempts: number;
  max_attempts: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
};

export const JOB_ID_EXAMPLE = "0b7e6f3a-52c1-4d8e-9f10-3a2b1c4d5e6f";
const TIME_EXAMPLE = "2026-11-28T12:00:00.000Z";

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

export type JobView = z.infer<typeof JobSchema>;

const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());

/** The public view of a job: never the account, the hold's ledger id or the lease. */
export function toJobView(job: JobSnapshot): JobView {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    input: (job.input ?? {}) as Record<string, unknown>,
    output: job.output ?? null,
    cost: Number(job.cost),
    charged: job.charged === null ? null : Number(job.charged),
    attempts: job.attempts,
    max_attempts: job.max_attempts,
    error: job.last_error,
    created_at: iso(job.created_at) ?? job.created_at,
    updated_at: iso(job.updated_at) ?? job.updated_at,
    started_at: iso(job.started_at),
    finished_at: iso(job.finished_at),
  };
}
