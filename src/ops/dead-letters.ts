import { sendJobMessages } from "../jobs/messages.ts";
import type { JobSnapshot } from "../jobs/view.ts";
import type { OpsDatabase } from "./metrics.ts";

export type DeadLetter = {
  id: string;
  account_id: string;
  type: string;
  cost: number;
  attempts: number;
  max_attempts: number;
  error: string | null;
  created_at: string;
  finished_at: string | null;
};

type Row = Record<string, unknown>;

const iso = (value: unknown) =>
  value === null || value === undefined ? null : new Date(value as string).toISOString();

export function toDeadLetter(row: Row): DeadLetter {
  return {
    id: String(row.id),
    account_id: String(row.account_id),
    type: String(row.type),
    cost: Number(row.cost),
    attempts: Number(row.attempts),
    max_attempts: Number(row.max_attempts),
    error: (row.last_error as string | null) ?? null,
    created_at: iso(row.created_at) ?? "",
    finished_at: iso(row.finished_at),
  };
}

/** Dead letters not retried yet, newest first (`ops_dead_letters()`). */
export async function listDeadLetters(database: OpsDatabase, limit = 50): Promise<DeadLetter[]> {
  const rows = (await database.sql.query("select * from ops_dead_letters($1)", [limit])) as Row[];
  return rows.map(toDeadLetter);
}

export type RetryOutcome = "retried" | "already_retried" | "refused" | "not_dead_lettered" | "not_found";

export type RetryResult = {
  outcome: RetryOutcome;
  reason: string | null;
  job: JobSnapshot | null;
  available: number | null;
  /** Whether the new job's queue message went out (if not, the sweeper sends it within minutes). */
  queued: boolean;
};

/**
 * Retries a dead letter as a new job with a new hold, in one statement (`retry_dead_letter()`), then
 * queues it. Money rules stay whole: the dead letter's released hold is never revived, the new hold
 * is placed like any job's (refused when the account cannot pay), and a dead letter is retried once.
 */
export async function retryDeadLetter(
  queue: Queue | undefined,
  database: OpsDatabase,
  jobId: string,
): Promise<RetryResult> {
  const rows = (await database.sql.query(
    "select outcome, reason, job, available from retry_dead_letter($1::uuid)",
    [jobId],
  )) as Row[];
  const row = rows[0];
  if (!row) throw new Error("retry_dead_letter answered no row");
  const result: RetryResult = {
    outcome: row.outcome as RetryOutcome,
    reason: (row.reason as string | null) ?? null,
    job: (row.job as JobSnapshot | null) ?? null,
    available: row.available === null || row.available === undefined ? null : Number(row.available),
    queued: false,
  };
  if (result.outcome === "retried" && result.job) {
    const sent = await sendJobMessages(queue, [result.job.id]);
    result.queued = sent.sent === 1;
  }
  return result;
}
