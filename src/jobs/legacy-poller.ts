import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { runAttempts } from "./executor.ts";
import { JOB_TYPES, type JobRegistry, leaseSeconds } from "./registry.ts";
import { claimNextJobs, completeJobs } from "./store.ts";

/** Jobs per claim. */
const POLL_BATCH = 10;
/** A cron invocation stops claiming after this long, leaving room for the last batch to finish. */
const POLL_BUDGET_MS = 20_000;

export type PollerOptions = {
  registry?: JobRegistry;
  random?: () => number;
  /** Claims at most this many batches (default: until the queue is empty or the budget is spent). */
  maxBatches?: number;
};

/**
 * The legacy worker (LEGACY_QUEUE_WORKER_ENABLED, off by default and in production): for a deployment
 * without Queues, the every-minute cron polls Postgres for due queued jobs (`FOR UPDATE SKIP
 * LOCKED`) and runs them through the same executor and the same complete_jobs as the queue consumer.
 * Both claim by moving a job from queued to running in one statement, so they never run one attempt
 * twice, even side by side. Retries wait in the row (`run_after`), not in a queue.
 */
export async function runLegacyPoller({ config, database }: Services, options: PollerOptions = {}) {
  if (!config.LEGACY_QUEUE_WORKER_ENABLED) return { enabled: false, ran: 0 };
  const registry = options.registry ?? JOB_TYPES;
  const started = Date.now();
  let ran = 0;
  for (let batches = 0; batches < (options.maxBatches ?? Number.POSITIVE_INFINITY); batches += 1) {
    if (Date.now() - started > POLL_BUDGET_MS) break;
    const claims = await claimNextJobs(database, POLL_BATCH, leaseSeconds(registry));
    if (claims.length === 0) break;
    const results = await runAttempts(claims, { registry, random: options.random });
    await completeJobs(database, results);
    ran += claims.length;
  }
  if (ran > 0) logEvent("jobs.legacy_poll", { ran });
  return { enabled: true, ran };
}
