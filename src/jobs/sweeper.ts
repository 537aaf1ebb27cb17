import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { sendJobMessages } from "./messages.ts";
import { type SweepAction, sweepJobs } from "./store.ts";

/** A queued job is sent again when it has waited this long past its due time without being claimed. */
export const RESEND_AFTER_SECONDS = 120;
/** Rows per step and sweep; a backlog larger than this is worked off over the following minutes. */
export const SWEEP_LIMIT = 500;

export type SweepOptions = { resendAfterSeconds?: number; limit?: number };

export type SweepSummary = Record<SweepAction, number> & { sent: number; send_failed: number };

/**
 * The every-minute outbox and lease sweeper (docs/ARCHITECTURE.md, Jobs), one statement: expires holds past
 * their TTL (their jobs → expired), takes back jobs whose lease ended (→ queued, or dead_lettered with the
 * hold released when that was the last attempt), and marks jobs still queued long after they were due; then
 * sends a message for every job it took back or marked. Two sweeps at once cannot both act: the function lets
 * one run and the other return nothing, and a message sent twice is harmless anyway (the claim runs a job
 * once).
 */
export async function sweepStaleJobs(
  { database, env }: Services,
  options: SweepOptions = {},
): Promise<SweepSummary> {
  const rows = await sweepJobs(
    database,
    options.resendAfterSeconds ?? RESEND_AFTER_SECONDS,
    options.limit ?? SWEEP_LIMIT,
  );
  const summary: SweepSummary = {
    expired: 0,
    requeued: 0,
    dead_lettered: 0,
    resend: 0,
    key_pruned: 0,
    sent: 0,
    send_failed: 0,
  };
  for (const row of rows) summary[row.action] += 1;
  const toSend = rows
    .filter((row) => (row.action === "requeued" || row.action === "resend") && row.jobId)
    .map((row) => row.jobId as string);
  const sent = await sendJobMessages(env.JOBS_QUEUE, toSend);
  summary.sent = sent.sent;
  summary.send_failed = sent.failed;
  if (rows.length > 0) logEvent("jobs.sweep", summary);
  return summary;
}
