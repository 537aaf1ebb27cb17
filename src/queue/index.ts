import { handleJobsBatch } from "../jobs/consumer.ts";
import { handleDeadLetterBatch } from "../jobs/dlq.ts";
import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { queueRole } from "./roles.ts";

export type QueueHandler = (batch: MessageBatch<unknown>, services: Services) => Promise<void>;

/** Consumers by queue role (src/queue/roles.ts). */
export const QUEUE_HANDLERS: { jobs?: QueueHandler; deadLetter?: QueueHandler } = {
  jobs: (batch, services) => handleJobsBatch(batch, services),
  deadLetter: (batch, services) => handleDeadLetterBatch(batch, services),
};

export async function runQueue(batch: MessageBatch<unknown>, services: Services) {
  if (!services.config.MVP_WORKER_ENABLED) {
    // A web-role Worker never consumes; if one is wired to a queue by mistake, leave the messages for
    // the real consumer instead of dropping them.
    logEvent("queue.not_consumer", { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 30 });
    return;
  }
  const role = queueRole(batch.queue);
  const handler = role ? QUEUE_HANDLERS[role] : undefined;
  if (!handler) {
    logEvent("queue.unknown", { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await handler(batch, services);
}
