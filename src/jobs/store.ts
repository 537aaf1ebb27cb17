import type { Database } from "../db/client.ts";
import { toInteger } from "../ledger/credits.ts";
import { IDEMPOTENCY_KEY_TTL_SECONDS } from "./idempotency.ts";
import type { JobSnapshot } from "./view.ts";

/**
 * The jobs functions of the `jobs_functions` migration, one statement each. Raw Neon client on
 * purpose: parameters here include API key digests and session tokens, and a failed drizzle query's
 * error message quotes its parameters.
 */
export type JobsDatabase = Pick<Database, "sql">;

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

type Row = Record<string, unknown>;

const optionalInteger = (value: unknown, column: string) =>
  value === null || value === undefined ? null : toInteger(value, column);

function credentialParams(caller: CallerCredential): [string, string] {
  if (caller.via === "key") return ["key", caller.digest];
  if (caller.via === "session") return ["session", caller.token];
  return ["account", caller.accountId];
}

export async function createJob(database: JobsDatabase, input: CreateJobInput): Promise<CreateJobResult> {
  const [via, credential] = credentialParams(input.caller);
  const rows = (await database.sql.query(
    `select status, reason, account_id::text, response_status, job, balance, available
     from create_job($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)`,
    [
      via,
      credential,
      input.idempotencyKey,
      input.fingerprint,
      input.type,
      JSON.stringify(input.input),
      input.cost,
      input.maxAttempts,
      input.holdTtlSeconds ?? JOB_HOLD_TTL_SECONDS,
      IDEMPOTENCY_KEY_TTL_SECONDS,
    ],
  )) as Row[];
  const row = rows[0];
  if (!row) throw new Error("create_job answered no row");
  if (row.status === "created" || row.status === "replayed") {
    return {
      status: row.status,
      accountId: String(row.account_id),
      responseStatus: Number(row.response_status),
      job: row.job as JobSnapshot,
    };
  }
  return {
    status: "rejected",
    reason: String(row.reason),
    balance: optionalInteger(row.balance, "balance"),
    available: optionalInteger(row.available, "available"),
  };
}

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

const CLAIM_COLUMNS = `job_id::text, outcome, status, account_id::text, type, input, cost, attempt, max_attempts`;

function toClaim(row: Row): Claim {
  return {
    jobId: String(row.job_id),
    outcome: row.outcome as Claim["outcome"],
    status: (row.status as string | null) ?? null,
    accountId: String(row.account_id ?? ""),
    type: String(row.type ?? ""),
    input: row.input ?? null,
    cost: optionalInteger(row.cost, "cost") ?? 0,
    attempt: Number(row.attempt ?? 0),
    maxAttempts: Number(row.max_attempts ?? 0),
  };
}

/** The queue consumer's claim: one row per distinct id. */
export async function claimJobs(database: JobsDatabase, jobIds: string[], leaseSeconds: number) {
  const rows = (await database.sql.query(`select ${CLAIM_COLUMNS} from claim_jobs($1::uuid[], $2)`, [
    jobIds,
    leaseSeconds,
  ])) as Row[];
  return rows.map(toClaim);
}

/** The legacy poller's claim: due queued jobs, oldest first, skipping any another claimer holds. */
export async function claimNextJobs(database: JobsDatabase, limit: number, leaseSeconds: number) {
  const rows = (await database.sql.query(`select ${CLAIM_COLUMNS} from claim_next_jobs($1, $2)`, [
    limit,
    leaseSeconds,
  ])) as Row[];
  return rows.map(toClaim);
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

export type Completion = {
  jobId: string;
  outcome: "succeeded" | "retry" | "failed" | "dead_lettered" | "expired" | "stale";
  status: string | null;
  charged: number | null;
  retryInSeconds: number | null;
};

export async function completeJobs(database: JobsDatabase, results: AttemptResult[]): Promise<Completion[]> {
  if (results.length === 0) return [];
  const rows = (await database.sql.query(
    "select job_id::text, outcome, status, charged, retry_in_seconds from complete_jobs($1::jsonb)",
    [JSON.stringify(results)],
  )) as Row[];
  return rows.map((row) => ({
    jobId: String(row.job_id),
    outcome: row.outcome as Completion["outcome"],
    status: (row.status as string | null) ?? null,
    charged: optionalInteger(row.charged, "charged"),
    retryInSeconds: row.retry_in_seconds === null ? null : Number(row.retry_in_seconds),
  }));
}

export async function deadLetterJobs(database: JobsDatabase, jobIds: string[], error: string) {
  const rows = (await database.sql.query(
    "select job_id::text, outcome, status from dead_letter_jobs($1::uuid[], $2)",
    [jobIds, error],
  )) as Row[];
  return rows.map((row) => ({
    jobId: String(row.job_id),
    outcome: row.outcome as "dead_lettered" | "skipped" | "not_found",
    status: (row.status as string | null) ?? null,
  }));
}

export async function cancelJob(database: JobsDatabase, accountId: string, jobId: string) {
  const rows = (await database.sql.query("select outcome, job from cancel_job($1, $2)", [
    accountId,
    jobId,
  ])) as Row[];
  const row = rows[0];
  return {
    outcome: row?.outcome as "canceled" | "already_canceled" | "conflict" | "not_found",
    job: (row?.job ?? null) as JobSnapshot | null,
  };
}

export type SweepAction = "expired" | "requeued" | "dead_lettered" | "resend" | "key_pruned";

export async function sweepJobs(database: JobsDatabase, resendAfterSeconds: number, limit: number) {
  const rows = (await database.sql.query("select action, job_id::text from sweep_jobs($1, $2)", [
    resendAfterSeconds,
    limit,
  ])) as Row[];
  return rows.map((row) => ({
    action: row.action as SweepAction,
    jobId: (row.job_id as string | null) ?? null,
  }));
}
