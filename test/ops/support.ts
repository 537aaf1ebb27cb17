import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { CRONS } from "../../src/cron/crons.ts";
import worker from "../../src/index.ts";
import { createJob, deadLetterJobs } from "../../src/jobs/store.ts";
import { ledgerDatabase, makeAccount, rawSql } from "../support/ledger.ts";

/** A JOBS_QUEUE that records what is sent (nothing reaches the shared local queue), or refuses. */
export class RecordingQueue {
  readonly sent: unknown[] = [];
  fail = false;

  async send(body: unknown) {
    if (this.fail) throw new Error("queue unavailable");
    this.sent.push(body);
  }

  async sendBatch(messages: Iterable<{ body: unknown }>) {
    if (this.fail) throw new Error("queue unavailable");
    for (const message of messages) this.sent.push(message.body);
  }

  drain(): unknown[] {
    return this.sent.splice(0, this.sent.length);
  }
}

export const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

/** The Worker's env with a recording queue and any overrides (thresholds, webhook URL, DSN). */
export function opsEnv(overrides: Record<string, unknown> = {}, queue = new RecordingQueue()): Env {
  return { ...env, JOBS_QUEUE: queue as unknown as Queue, ...overrides } as Env;
}

/** One every-minute cron tick through the Worker's real `scheduled` export. */
export async function tick(tickEnv: Env) {
  const controller = createScheduledController({ scheduledTime: new Date(), cron: CRONS.everyMinute });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, tickEnv, ctx);
  } finally {
    // A failed tick still has work in waitUntil (the Sentry flush) that must finish inside the test.
    await waitOnExecutionContext(ctx);
  }
}

/** Hands bodies to the Worker's real `queue` export as one batch of the jobs queue. */
export async function consume(bodies: unknown[], queueEnv: Env = opsEnv()) {
  const batch = createMessageBatch(
    "jobs-local",
    bodies.map((body, i) => ({
      id: `m${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, queueEnv, ctx);
  return getQueueResult(batch, ctx);
}

/** Through the Worker's real `fetch` export with a given env. */
export async function fetchWith(path: string, init: RequestInit = {}, fetchEnv: Env = opsEnv()) {
  const ctx = createExecutionContext();
  try {
    return await worker.fetch(new Request(`http://tollgate.test${path}`, init), fetchEnv, ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

export const ALERT_SINK = "https://alerts.tollgate.test/hooks/T000/B000/secretpath";

export type SlackMessage = { text: string; blocks?: unknown[] };

/**
 * The alert webhook, inside workerd: `fetch` is spied and calls to ALERT_SINK are answered here (with
 * `status`, or a network error when `down`), everything else (the database) goes through. A sink in
 * Node would need a URL handed in by the global setup; the spy keeps the test self-contained.
 */
export function alertSink() {
  const original = globalThis.fetch;
  const sink = {
    received: [] as SlackMessage[],
    attempts: 0,
    status: 200,
    down: false,
    /** Refuse (503) just the messages this matches, e.g. only the firing ones. */
    refuse: undefined as ((message: SlackMessage) => boolean) | undefined,
  };
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(ALERT_SINK)) return original(input, init);
    sink.attempts += 1;
    if (sink.down) throw new TypeError("fetch failed");
    const message = JSON.parse(String(init?.body)) as SlackMessage;
    const status = sink.refuse?.(message) ? 503 : sink.status;
    if (status >= 200 && status < 300) sink.received.push(message);
    return new Response(status < 300 ? "ok" : "unavailable", { status });
  });
  return { sink, restore: () => spy.mockRestore() };
}

let seq = 0;

/** A job of a fresh account (holding `balance` credits) that ended dead_lettered, its hold released. */
export async function seedDeadLetter(options: { balance?: number; cost?: number } = {}) {
  const database = ledgerDatabase();
  const { accountId } = await makeAccount({ balance: options.balance ?? 100 });
  seq += 1;
  const created = await createJob(database, {
    caller: { via: "account", accountId },
    idempotencyKey: `ops-seed-${seq}-${crypto.randomUUID()}`,
    fingerprint: "a".repeat(64),
    type: "echo",
    input: { message: "dead" },
    cost: options.cost ?? 10,
    maxAttempts: 3,
  });
  if (created.status !== "created") throw new Error(`seed job not created: ${JSON.stringify(created)}`);
  const [row] = await deadLetterJobs(database, [created.job.id], "test: attempts exhausted");
  if (row?.outcome !== "dead_lettered") throw new Error("seed job not dead-lettered");
  return { accountId, jobId: created.job.id };
}

/** Inserts a heartbeat `ageSeconds` old, as if the consumer had last run then. */
export async function heartbeatAged(ageSeconds: number) {
  await rawSql(
    "insert into worker_heartbeats (role, deployment, seen_at) values ('worker', 'test', now() - make_interval(secs => $1))",
    [ageSeconds],
  );
}

/** Lets time pass for the alert cooldown: every rule's last change moves back by `seconds`. */
export async function ageAlertState(seconds: number) {
  await rawSql("update alert_state set changed_at = changed_at - make_interval(secs => $1)", [seconds]);
}

/**
 * A snapshot of the current figures dated 61 minutes ago, so "growth in the last hour" is measured
 * from the state at the start of the test (without one, a new system has no growth to report).
 */
export async function baselineSnapshot() {
  await rawSql(
    `insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h, heartbeat_age_s)
     select date_trunc('minute', now()) - interval '61 minutes', f.queue_depth, f.running, f.dead_letter_total,
       f.failed_jobs_1h, f.webhook_failures_1h, f.heartbeat_age_s
     from ops_current_figures() f
     on conflict (minute) do update set queue_depth = excluded.queue_depth, dead_letter_total = excluded.dead_letter_total`,
  );
}
