import { z } from "zod";
import { int64 } from "../db/columns.ts";
import { JOB_STATUSES } from "../db/schema/jobs.ts";

/**
 * A job row as Postgres' `to_jsonb(jobs)` writes it. The functions answer in this shape, and the
 * Idempotency-Key stores it, so a replay renders exactly the body the first request got.
 */
export const JobSnapshot = z.object({
  id: z.string(),
  account_id: z.string(),
  type: z.string(),
  input: z.unknown(),
  status: z.enum(JOB_STATUSES),
  hold_id: int64,
  cost: int64,
  charged: int64.nullable(),
  output: z.unknown(),
  last_error: z.string().nullable(),
  attempts: z.number().int(),
  max_attempts: z.number().int(),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});
export type JobSnapshot = z.output<typeof JobSnapshot>;

/** The public view of a job: never the account, the hold's ledger id or the lease. */
export type JobView = {
  id: string;
  type: string;
  status: JobSnapshot["status"];
  input: Record<string, unknown>;
  output: unknown;
  cost: number;
  charged: number | null;
  attempts: number;
  max_attempts: number;
  error: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
};

const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());

export function toJobView(job: JobSnapshot): JobView {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    input: (job.input ?? {}) as Record<string, unknown>,
    output: job.output ?? null,
    cost: job.cost,
    charged: job.charged,
    attempts: job.attempts,
    max_attempts: job.max_attempts,
    error: job.last_error,
    created_at: iso(job.created_at) ?? job.created_at,
    updated_at: iso(job.updated_at) ?? job.updated_at,
    started_at: iso(job.started_at),
    finished_at: iso(job.finished_at),
  };
}
