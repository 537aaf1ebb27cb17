import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { runAttempts } from "./executor.ts";
import { recordHeartbeats } from "./heartbeat.ts";
import { QueueMessage } from "./messages.ts";
import { JOB_TYPES, type JobRegistry, leaseSeconds } from "./registry.ts";
import { claimJobs, completeJobs, type JobsDatabase } from "./store.ts";

/** When the database is unreachable, messages come back after this long (the job rows are unchanged). */
const DATABASE_DOWN_RETRY_SECONDS = 30;

export type ConsumerOptions = { registry?: JobRegistry; random?: () => number };

type Sorted = {
  heartbeats: { message: Message<unknown>; deployment: string }[];
  /** Messages by job id: a batch can carry one job twice (duplicate delivery). */
  jobs: Map<string, Message<unknown>[]>;
};

function sortMessages(batch: MessageBatch<unknown>): Sorted {
  const sorted: Sorted = { heartbeats: [], jobs: new Map() };
  for (const message of batch.messages) {
    const parsed = QueueMessage.safeParse(message.body);
    if (!parsed.success) {
      // Retrying cannot fix a malformed body; drop it loudly instead of cycling it to the DLQ.
      logEvent("jobs.message_invalid", { queue: batch.queue, message_id: message.id });
      message.ack();
    } else if ("kind" in parsed.data) {
      sorted.heartbeats.push({ message, deployment: parsed.data.deployment ?? "unknown" });
    } else {
      const list = sorted.jobs.get(parsed.data.job_id) ?? [];
      list.push(message);
      sorted.jobs.set(parsed.data.job_id, list);
    }
  }
  return sorted;
}

async function handleHeartbeats(database: JobsDatabase, role: string, heartbeats: Sorted["heartbeats"]) {
  if (heartbeats.length === 0) return;
  try {
    await recordHeartbeats(
      database,
      role,
      heartbeats.map((h) => h.deployment),
    );
    for (const h of heartbeats) h.message.ack();
  } catch (error) {
    logEvent("jobs.heartbeat_failed", { error: String(error) });
    for (const h of heartbeats) h.message.retry({ delaySeconds: DATABASE_DOWN_RETRY_SECONDS });
  }
}

/**
 * The jobs queue consumer (worker and all-in-one roles). One statement claims the batch, the claimed
 * jobs run concurrently, one statement completes them; then each message is acked or retried on its
 * own, so one job's failure never redelivers its batch-mates. A message for a job that is running,
 * finished or canceled is acked and skipped: duplicate deliveries, and a redelivery after a crash
 * between completion and ack, change nothing.
 */
export async function handleJobsBatch(
  batch: MessageBatch<unknown>,
  services: Services,
  options: ConsumerOptions = {},
) {
  const registry = options.registry ?? JOB_TYPES;
  const { database, config } = services;
  const sorted = sortMessages(batch);
  await handleHeartbeats(database, config.ROLE, sorted.heartbeats);
  if (sorted.jobs.size === 0) return;

  const retryAll = (messages: Iterable<Message<unknown>[]>, delaySeconds: number) => {
    for (const list of messages) for (const message of list) message.retry({ delaySeconds });
  };

  let claims: Awaited<ReturnType<typeof claimJobs>>;
  try {
    claims = await claimJobs(database, [...sorted.jobs.keys()], leaseSeconds(registry));
  } catch (error) {
    logEvent("jobs.claim_failed", { queue: batch.queue, jobs: sorted.jobs.size, error: String(error) });
    retryAll(sorted.jobs.values(), DATABASE_DOWN_RETRY_SECONDS);
    return;
  }

  const claimed = claims.filter((claim) => claim.outcome === "claimed");
  for (const claim of claims) {
    if (claim.outcome === "claimed") continue;
    logEvent("jobs.message_skipped", { job_id: claim.jobId, outcome: claim.outcome, status: claim.status });
    for (const message of sorted.jobs.get(claim.jobId) ?? []) message.ack();
  }
  if (claimed.length === 0) return;

  const results = await runAttempts(claimed, { registry, random: options.random });
  let completions: Awaited<ReturnType<typeof completeJobs>>;
  try {
    completions = await completeJobs(database, results);
  } catch (error) {
    // The jobs stay running under their lease; the sweeper takes them back when it ends.
    logEvent("jobs.complete_failed", { jobs: results.length, error: String(error) });
    retryAll(
      claimed.map((claim) => sorted.jobs.get(claim.jobId) ?? []),
      DATABASE_DOWN_RETRY_SECONDS,
    );
    return;
  }

  for (const completion of completions) {
    const [first, ...duplicates] = sorted.jobs.get(completion.jobId) ?? [];
    for (const message of duplicates) message.ack();
    if (!first) continue;
    if (completion.outcome === "retry") {
      first.retry({ delaySeconds: completion.retryInSeconds ?? undefined });
    } else {
      first.ack();
    }
    logEvent("jobs.completed", {
      job_id: completion.jobId,
      outcome: completion.outcome,
      charged: completion.charged,
    });
  }
}
