import { z } from "zod";
import { sqlFunction, sqlQuery } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { int64 } from "../db/columns.ts";
import { IDEMPOTENCY_KEY_TTL_SECONDS } from "./idempotency.ts";
import { JobSnapshot } from "./view.ts";

/**
 * The jobs functions (src/db/functions/jobs.sql), one statement each, over the raw Neon client:
 * parameters here include API key digests and session tokens, and only this door keeps them out of
 * error messages.
 */
export type JobsDatabase = SqlClient;

export type CallerCredential =
  | { via: "key"; digest: string }
  | { via: "session"; token: string }
  | { via: "account"; accountId: string };

export type CreateJobInput = {
  caller: CallerCredential;
  idempotencyKey: string;
  fingerprint: string;
  type: string;
  input: unknown;
  cost: number;
  maxAttempts: number;
  holdTtlSeconds?: number;
};

export type CreateJobResult =
  | { status: "created" | "replayed"; accountId: string; responseStatus: number; job: JobSnapshot }
  | { status: "rejected"; reason: string; balance: number | null; available: number | null };

/** Holds outlive any realistic retry schedule; one still pending after a day is released (expired). */
export const JOB_HOLD_TTL_SECONDS = 24 * 60 * 60;

const createJobFn = sqlFunction(
  "create_job",
  {
    via: "text",
    credential: "text",
    idempotencyKey: "text",
    fingerprint: "text",
    type: "text",
    input: "jsonb",
    cost: "bigint",
    maxAttempts: "integer",
    holdTtlSeconds: "integer",
    keyTtlSeconds: "integer",
  },
  z.object({
    status: z.enum(["created", "replayed", "rejected"]),
    reason: z.string().nullable(),
    account_id: z.string().nullable(),
    response_status: z.number().int().nullable(),
    job: JobSnapshot.nullable(),
    balance: int64.nullable(),
    available: int64.nullable(),
  }),
);

function credentialOf(caller: CallerCredential): { via: string; credential: string } {
  if (caller.via === "key") return { via: "key", credential: caller.digest };
  if (caller.via === "session") return { via: "session", credential: caller.token };
  return { via: "account", credential: caller.accountId };
}

export async function createJob(database: JobsDatabase, input: CreateJobInput): Promise<CreateJobResult> {
  const row = await createJobFn.one(database, {
    ...credentialOf(input.caller),
    idempotencyKey: input.idempotencyKey,
    fingerprint: input.fingerprint,
    type: input.type,
    input: input.input,
    cost: input.cost,
    maxAttempts: input.maxAttempts,
    holdTtlSeconds: input.holdTtlSeconds ?? JOB_HOLD_TTL_SECONDS,
    keyTtlSeconds: IDEMPOTENCY_KEY_TTL_SECONDS,
  });
  if (row.status !== "rejected") {
    if (!row.job || !row.account_id || row.response_status === null) {
      throw new Error(`create_job() answered ${row.status} without its job`);
    }
    return {
      status: row.status,
      accountId: row.account_id,
      responseStatus: row.response_status,
      job: row.job,
    };
  }
  return {
    status: "rejected",
    reason: row.reason ?? "rejected",
    balance: row.balance,
    available: row.available,
  };
}

const ClaimRow = z.object({
  job_id: z.string(),
  outcome: z.enum(["claimed", "skipped", "expired", "not_found"]),
  status: z.string().nullable(),
  account_id: z.string().nullable(),
  type: z.string().nullable(),
  input: z.unknown(),
  cost: int64.nullable(),
  attempt: z.number().int().nullable(),
  max_attempts: z.number().int().nullable(),
});

export type Claim = {
  jobId: string;
  outcome: "claimed" | "skipped" | "expired" | "not_found";
  status: string | null;
  accountId: string;
  type: string;
  input: unknown;
  cost: number;
  attempt: number;
  maxAttempts: number;
};

function toClaim(row: z.output<typeof ClaimRow>): Claim {
  return {
    jobId: row.job_id,
    outcome: row.outcome,
    status: row.status,
    accountId: row.account_id ?? "",
    type: row.type ?? "",
    input: row.input ?? null,
    cost: row.cost ?? 0,
    attempt: row.attempt ?? 0,
    maxAttempts: row.max_attempts ?? 0,
  };
}

const claimJobsFn = sqlFunction("claim_jobs", { jobIds: "uuid[]", leaseSeconds: "integer" }, ClaimRow);
const claimNextJobsFn = sqlFunction(
  "claim_next_jobs",
  { limit: "integer", leaseSeconds: "integer" },
  ClaimRow,
);

/** The queue consumer's claim: one row per distinct id. */
export async function claimJobs(database: JobsDatabase, jobIds: string[], leaseSeconds: number) {
  return (await claimJobsFn(database, { jobIds, leaseSeconds })).map(toClaim);
}

/** The legacy poller's claim: due queued jobs, oldest first, skipping any another claimer holds. */
export async function claimNextJobs(database: JobsDatabase, limit: number, leaseSeconds: number) {
  return (await claimNextJobsFn(database, { limit, leaseSeconds })).map(toClaim);
}

/** One attempt's result, as complete_jobs takes it. */
export type AttemptResult = {
  job_id: string;
  attempt: number;
  outcome: "succeeded" | "retry" | "failed";
  output?: unknown;
  cost?: number;
  error?: string;
  retry_in_seconds?: number;
};

const completeJobsFn = sqlFunction(
  "complete_jobs",
  { results: "jsonb" },
  z.object({
    job_id: z.string(),
    outcome: z.enum(["succeeded", "retry", "failed", "dead_lettered", "expired", "stale"]),
    status: z.string().nullable(),
    charged: int64.nullable(),
    retry_in_seconds: z.number().int().nullable(),
  }),
);

export type Completion = {
  jobId: string;
  outcome: "succeeded" | "retry" | "failed" | "dead_lettered" | "expired" | "stale";
  status: string | null;
  charged: number | null;
  retryInSeconds: number | null;
};

export async function completeJobs(database: JobsDatabase, results: AttemptResult[]): Promise<Completion[]> {
  if (results.length === 0) return [];
  const rows = await completeJobsFn(database, { results });
  return rows.map((row) => ({
    jobId: row.job_id,
    outcome: row.outcome,
    status: row.status,
    charged: row.charged,
    retryInSeconds: row.retry_in_seconds,
  }));
}

const deadLetterJobsFn = sqlFunction(
  "dead_letter_jobs",
  { jobIds: "uuid[]", error: "text" },
  z.object({
    job_id: z.string(),
    outcome: z.enum(["dead_lettered", "skipped", "not_found"]),
    status: z.string().nullable(),
  }),
);

export async function deadLetterJobs(database: JobsDatabase, jobIds: string[], error: string) {
  const rows = await deadLetterJobsFn(database, { jobIds, error });
  return rows.map((row) => ({ jobId: row.job_id, outcome: row.outcome, status: row.status }));
}

const cancelJobFn = sqlFunction(
  "cancel_job",
  { accountId: "uuid", jobId: "uuid" },
  z.object({
    outcome: z.enum(["canceled", "already_canceled", "conflict", "not_found"]),
    job: JobSnapshot.nullable(),
  }),
);

export async function cancelJob(database: JobsDatabase, accountId: string, jobId: string) {
  const row = await cancelJobFn.one(database, { accountId, jobId });
  return { outcome: row.outcome, job: row.job };
}

export type SweepAction = "expired" | "requeued" | "dead_lettered" | "resend" | "key_pruned";

const sweepJobsFn = sqlFunction(
  "sweep_jobs",
  { resendAfterSeconds: "integer", limit: "integer" },
  z.object({
    action: z.enum(["expired", "requeued", "dead_lettered", "resend", "key_pruned"]),
    job_id: z.string().nullable(),
  }),
);

export async function sweepJobs(database: JobsDatabase, resendAfterSeconds: number, limit: number) {
  const rows = await sweepJobsFn(database, { resendAfterSeconds, limit });
  return rows.map((row) => ({ action: row.action, jobId: row.job_id }));
}

const JobRow = z.object({ job: JobSnapshot });

/** One of the account's jobs; another account's job is undefined like a missing one. */
export async function getJob(database: JobsDatabase, accountId: string, jobId: string) {
  const [row] = await sqlQuery(
    database,
    "getJob",
    "select to_jsonb(j) as job from jobs j where j.id = $1::uuid and j.account_id = $2::uuid",
    [jobId, accountId],
    JobRow,
  );
  return row?.job;
}

/** The position after the last job of a page: created_at as Postgres wrote it (microseconds) and id. */
export type JobCursor = { createdAt: string; id: string };

/** A page of the account's jobs, newest first, keyset-paginated; `limit + 1` rows tell whether more follow. */
export async function listJobs(
  database: JobsDatabase,
  accountId: string,
  options: { status?: string; after?: JobCursor; limit: number },
): Promise<JobSnapshot[]> {
  const rows = await sqlQuery(
    database,
    "listJobs",
    `select to_jsonb(j) as job from jobs j
     where j.account_id = $1::uuid and ($2::text is null or j.status = $2)
       and ($3::timestamptz is null or (j.created_at, j.id) < ($3::timestamptz, $4::uuid))
     order by j.created_at desc, j.id desc
     limit $5`,
    [
      accountId,
      options.status ?? null,
      options.after?.createdAt ?? null,
      options.after?.id ?? null,
      options.limit,
    ],
    JobRow,
  );
  return rows.map((row) => row.job);
}
