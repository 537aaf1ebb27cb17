import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { queueRole } from "../../src/queue/roles.ts";

const invalidEnv = () => ({ ...env, ENVIRONMENT: "prod-ish" }) as Env;

describe("queue and scheduled entry points fail closed", () => {
  it("an invalid env retries every message instead of dropping it", async () => {
    const batch = createMessageBatch("jobs-local", [
      {
        id: "m1",
        timestamp: new Date(),
        attempts: 1,
        body: { job_id: "00000000-0000-0000-0000-000000000001" },
      },
      {
        id: "m2",
        timestamp: new Date(),
        attempts: 1,
        body: { job_id: "00000000-0000-0000-0000-000000000002" },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, invalidEnv(), ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
  });

  it("a web-role Worker (MVP_WORKER_ENABLED=false) leaves messages for the real consumer", async () => {
    const batch = createMessageBatch("jobs-local", [
      {
        id: "m1",
        timestamp: new Date(),
        attempts: 1,
        body: { job_id: "00000000-0000-0000-0000-000000000001" },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, { ...env, MVP_WORKER_ENABLED: "false" } as Env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
  });

  it("a message from an unknown queue is retried, never acked", async () => {
    const batch = createMessageBatch("somebody-elses-queue", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: {} },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryBatch.retry).toBe(true);
    expect(result.explicitAcks).toEqual([]);
  });

  it("an invalid env makes the cron tick fail", async () => {
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "* * * * *" });
    await expect(worker.scheduled(controller, invalidEnv(), createExecutionContext())).rejects.toThrow(
      /config invalid/,
    );
  });

  it("queue roles come from exact names per environment", () => {
    expect(queueRole("jobs-local")).toBe("jobs");
    expect(queueRole("jobs-production")).toBe("jobs");
    expect(queueRole("jobs-dlq-staging")).toBe("deadLetter");
    expect(queueRole("jobs-parked-production")).toBeUndefined();
    expect(queueRole("jobs-evil")).toBeUndefined();
  });
});
