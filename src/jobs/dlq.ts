import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { QueueMessage } from "./messages.ts";
import { deadLetterJobs } from "./store.ts";

const DATABASE_DOWN_RETRY_SECONDS = 60;

/** The error a dead-lettered job shows when its attempts left none of their own. */
export const DEAD_LETTER_ERROR = "delivery attempts exhausted: the message reached the dead-letter queue";

/**
 * The dead-letter queue's consumer. Queues moves a message here once its retries are used up; the
 * job it names ends `dead_lettered`, its hold released once, its last error kept. A job that finished
 * meanwhile is left alone. Without this consumer those holds would stay pending until their TTL.
 */
export async function handleDeadLetterBatch(batch: MessageBatch<unknown>, { database }: Services) {
  const byJob = new Map<string, Message<unknown>[]>();
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body);
    if (!parsed.success || "kind" in parsed.data) {
      // A heartbeat here only says the consumer was down for a while; the metrics already show it.
      logEvent("jobs.dead_letter_ignored", { message_id: message.id, valid: parsed.success });
      message.ack();
      continue;
    }
    const list = byJob.get(parsed.data.job_id) ?? [];
    list.push(message);
    byJob.set(parsed.data.job_id, list);
  }
  if (byJob.size === 0) return;

  try {
    const rows = await deadLetterJobs(database, [...byJob.keys()], DEAD_LETTER_ERROR);
    for (const row of rows) {
      logEvent("jobs.dead_lettered", { job_id: row.jobId, outcome: row.outcome, status: row.status });
    }
  } catch (error) {
    // The dead-letter queue has its own retries (and its own parking queue) behind it.
    logEvent("jobs.dead_letter_failed", { jobs: byJob.size, error: String(error) });
    for (const list of byJob.values())
      for (const message of list) message.retry({ delaySeconds: DATABASE_DOWN_RETRY_SECONDS });
    return;
  }
  for (const list of byJob.values()) for (const message of list) message.ack();
}
