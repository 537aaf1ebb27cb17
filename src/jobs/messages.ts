import { z } from "zod";
import { logEvent } from "../telemetry/log.ts";

/** `{job_id}`: run this job. The only thing a message carries; the row holds the rest. */
export const JobMessage = z.object({ job_id: z.uuid() });
export type JobMessage = z.infer<typeof JobMessage>;

/** Sent by the cron through the jobs queue each minute, so heartbeats measure the real consumer. */
export const HeartbeatMessage = z.object({
  kind: z.literal("heartbeat"),
  deployment: z.string().min(1).max(200).optional(),
  sent_at: z.string().max(64).optional(),
});
export type HeartbeatMessage = z.infer<typeof HeartbeatMessage>;

export const QueueMessage = z.union([HeartbeatMessage, JobMessage]);
export type QueueMessage = z.infer<typeof QueueMessage>;

/** Queues accepts at most 100 messages per sendBatch. */
const SEND_BATCH_LIMIT = 100;

export type SendOutcome = { sent: number; failed: number };

/**
 * Sends `{job_id}` for each job. Never throws: a job that did not get its message is still `queued`
 * in the database, and the sweeper sends it again, so a failed send only costs latency.
 */
export async function sendJobMessages(queue: Queue | undefined, jobIds: string[]): Promise<SendOutcome> {
  if (jobIds.length === 0) return { sent: 0, failed: 0 };
  if (!queue) {
    logEvent("jobs.send_skipped", { reason: "no JOBS_QUEUE binding", jobs: jobIds.length });
    return { sent: 0, failed: jobIds.length };
  }
  let sent = 0;
  for (let i = 0; i < jobIds.length; i += SEND_BATCH_LIMIT) {
    const chunk = jobIds.slice(i, i + SEND_BATCH_LIMIT);
    try {
      await queue.sendBatch(chunk.map((id) => ({ body: { job_id: id } satisfies JobMessage })));
      sent += chunk.length;
    } catch (error) {
      logEvent("jobs.send_failed", { jobs: chunk.length, error: String(error) });
    }
  }
  return { sent, failed: jobIds.length - sent };
}
