import { z } from "zod";
import { sqlFunction } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { int64, isoTimestamp } from "../db/columns.ts";
import { ApiError } from "../errors/api-error.ts";
import { sendJobMessages } from "./messages.ts";
import { JobSnapshot } from "./view.ts";

/** A dead letter as operators see it. */
export const DeadLetter = z
  .object({
    id: z.string(),
    account_id: z.string(),
    type: z.string(),
    cost: int64,
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    last_error: z.string().nullable(),
    created_at: isoTimestamp,
    finished_at: isoTimestamp.nullable(),
  })
  .transform(({ last_error, ...rest }) => ({ ...rest, error: last_error }));
export type DeadLetter = z.output<typeof DeadLetter>;

const opsDeadLetters = sqlFunction("ops_dead_letters", { limit: "integer" }, DeadLetter);

/** Dead letters not retried yet, newest first (`ops_dead_letters()`). */
export function listDeadLetters(database: SqlClient, limit = 50): Promise<DeadLetter[]> {
  return opsDeadLetters(database, { limit });
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

const retryDeadLetterFn = sqlFunction(
  "retry_dead_letter",
  { jobId: "uuid" },
  z.object({
    outcome: z.enum(["retried", "already_retried", "refused", "not_dead_lettered", "not_found"]),
    reason: z.string().nullable(),
    job: JobSnapshot.nullable(),
    available: int64.nullable(),
  }),
);

/**
 * Retries a dead letter as a new job with a new hold, in one statement (`retry_dead_letter()`), then
 * queues it. Money rules stay whole: the dead letter's released hold is never revived, the new hold
 * is placed like any job's (refused when the account cannot pay), and a dead letter is retried once.
 */
export async function retryDeadLetter(
  queue: Queue | undefined,
  database: SqlClient,
  jobId: string,
): Promise<RetryResult> {
  const row = await retryDeadLetterFn.one(database, { jobId });
  const result: RetryResult = { ...row, queued: false };
  if (result.outcome === "retried" && result.job) {
    const sent = await sendJobMessages(queue, [result.job.id]);
    result.queued = sent.sent === 1;
  }
  return result;
}

/**
 * The retry with a refusal turned into the error contract; the ops API and the console's button both
 * use it. Insufficient credits is a 402 like on POST /api/jobs: the new job needs a new hold.
 */
export async function retryDeadLetterOrThrow(
  queue: Queue | undefined,
  database: SqlClient,
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
