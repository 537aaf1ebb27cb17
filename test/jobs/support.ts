import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import worker from "../../src/index.ts";
import { sweepStaleJobs } from "../../src/jobs/sweeper.ts";
import type { JobView } from "../../src/jobs/view.ts";
import { grantCredits } from "../../src/ledger/index.ts";
import { bearer, createKey, signUp, type TestUser } from "../support/auth.ts";
import { ledgerDatabase, rawSql } from "../support/ledger.ts";
import { testServices } from "../support/services.ts";

export const JOBS_QUEUE_NAME = "jobs-local";
export const DLQ_NAME = "jobs-dlq-local";

/** A JOBS_QUEUE binding that records what is sent instead of delivering it, or refuses to send. */
export class RecordingQueue {
  readonly sent: unknown[] = [];
  private readonly options: { fail?: boolean };
  constructor(options: { fail?: boolean } = {}) {
    this.options = options;
  }

  async send(body: unknown) {
    if (this.options.fail) throw new Error("queue unavailable");
    this.sent.push(body);
  }

  async sendBatch(messages: Iterable<{ body: unknown }>) {
    if (this.options.fail) throw new Error("queue unavailable");
    for (const message of messages) this.sent.push(message.body);
  }

  /** The job ids sent (heartbeats, which the cron sends through the same queue, left out). */
  jobIds(): string[] {
    return this.sent.flatMap((body) => {
      const id = (body as { job_id?: unknown }).job_id;
      return typeof id === "string" ? [id] : [];
    });
  }

  /** Hands over what was sent so far and forgets it, like a queue handing a batch to its consumer. */
  drain(): unknown[] {
    return this.sent.splice(0, this.sent.length);
  }
}

export function testConfig(overrides: Record<string, unknown> = {}) {
  const config = loadConfig({ ...env, ...overrides } as Env).config;
  if (!config) throw new Error("the test env is not a valid config");
  return config;
}

/** One sweeper tick (the every-minute cron's jobs task) whose sends go to `queue`. */
export function sweepWith(queue = new RecordingQueue()) {
  return sweepStaleJobs(testServices({ JOBS_QUEUE: queue }));
}

/** Through the Worker's default export with a recording queue (so nothing reaches the shared queue). */
export async function api(path: string, init: RequestInit = {}, queue = new RecordingQueue()) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://tollgate.test${path}`, init),
    { ...env, JOBS_QUEUE: queue as unknown as Queue } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

export type Funded = TestUser & { key: string; auth: Record<string, string> };

/** A signed-up user with an API key and `credits` granted. */
export async function fundedUser(credits: number): Promise<Funded> {
  const user = await signUp();
  const key = (await createKey(user, "jobs")).secret;
  if (credits > 0) await grant(user.accountId, credits);
  return { ...user, key, auth: bearer(key) };
}

export async function grant(accountId: string, amount: number) {
  const result = await grantCredits(ledgerDatabase(), {
    accountId,
    amount,
    ref: `test-${crypto.randomUUID()}`,
    metadata: { reason: "test" },
  });
  expect(result.status).toBe("applied");
}

export function jobRequest(
  auth: Record<string, string>,
  body: unknown,
  key: string | null = crypto.randomUUID(),
): RequestInit {
  return {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key === null ? {} : { "idempotency-key": key }),
      ...auth,
    },
    body: JSON.stringify(body),
  };
}

/** POST /api/jobs expecting 201; returns the job and the queue it was sent on. */
export async function createEcho(
  user: Funded,
  input: Record<string, unknown> = {},
  queue = new RecordingQueue(),
) {
  const response = await api("/api/jobs", jobRequest(user.auth, { type: "echo", input }), queue);
  expect(response.status, await response.clone().text()).toBe(201);
  return { job: (await response.json()) as JobView, queue };
}

/**
 * Wraps a batch so each message's `retry()` options are recorded: the pinned `getQueueResult` reports
 * which messages were retried but not their delay.
 */
export function recordingRetries(batch: MessageBatch<unknown>) {
  const delays = new Map<string, number | undefined>();
  const bind = <T extends object>(target: T) =>
    new Proxy(target, {
      get(t, property) {
        const value = Reflect.get(t, property);
        if (property === "retry") {
          return (options?: QueueRetryOptions) => {
            delays.set((t as unknown as Message).id, options?.delaySeconds);
            return (value as (o?: QueueRetryOptions) => void).call(t, options);
          };
        }
        return typeof value === "function" ? value.bind(t) : value;
      },
    });
  const messages = batch.messages.map((message) => bind(message));
  const wrapped = {
    queue: batch.queue,
    messages,
    ackAll: () => batch.ackAll(),
    retryAll: (options?: QueueRetryOptions) => batch.retryAll(options),
  } as unknown as MessageBatch<unknown>;
  return { wrapped, delays };
}

/** Delivers bodies to the Worker's queue handler as one batch and returns the ack/retry outcome. */
export async function deliver(
  bodies: unknown[],
  options: { queue?: string; attempts?: number; env?: Record<string, unknown> } = {},
) {
  const batch = createMessageBatch(
    options.queue ?? JOBS_QUEUE_NAME,
    bodies.map((body, i) => ({
      id: `msg-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: options.attempts ?? 1,
      body,
    })),
  );
  const { wrapped, delays } = recordingRetries(batch);
  const ctx = createExecutionContext();
  await worker.queue(wrapped, { ...env, ...options.env } as Env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { batch, result, delays, ids: batch.messages.map((m) => m.id) };
}

export type JobRow = {
  id: string;
  status: string;
  attempts: number;
  hold_id: string;
  charged: string | null;
  last_error: string | null;
  hold_status: string;
};

export async function jobRow(id: string): Promise<JobRow> {
  const rows = await rawSql<JobRow>(
    "select j.id, j.status, j.attempts, j.hold_id, j.charged, j.last_error, t.status as hold_status from jobs j join transfers t on t.id = j.hold_id where j.id = $1",
    [id],
  );
  const row = rows[0];
  if (!row) throw new Error(`no job ${id}`);
  return row;
}

/** The resolution transfers (capture, release, expire) of a job's hold: at most one may exist. */
export async function resolutionsOf(jobId: string) {
  return rawSql<{ kind: string; amount: string }>(
    "select r.kind, r.amount from jobs j join transfers r on r.pending_id = j.hold_id where j.id = $1",
    [jobId],
  );
}
