import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { BACKOFF_BASE_SECONDS } from "../../src/jobs/backoff.ts";
import { handleJobsBatch } from "../../src/jobs/consumer.ts";
import { createRegistry, defineJobType } from "../../src/jobs/registry.ts";
import { createJob } from "../../src/jobs/store.ts";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import { testServices } from "../support/services.ts";
import {
  createEcho,
  deliver,
  type Funded,
  fundedUser,
  JOBS_QUEUE_NAME,
  jobRow,
  resolutionsOf,
} from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(10_000);
});

describe("the jobs queue consumer", () => {
  it("runs a batch: claims, runs, captures, acks each message", async () => {
    const a = await createEcho(user, { message: "a" });
    const b = await createEcho(user, { message: "b", charge: 3 });
    const { result, ids } = await deliver([{ job_id: a.job.id }, { job_id: b.job.id }]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    expect(await jobRow(a.job.id)).toMatchObject({
      status: "succeeded",
      attempts: 1,
      charged: String(ECHO_COST),
    });
    // Partial capture: the job reported a cost of 3, the other 7 credits go back.
    expect(await jobRow(b.job.id)).toMatchObject({
      status: "succeeded",
      charged: "3",
      hold_status: "posted",
    });
  });

  it("a duplicate delivery is a no-op: in one batch, and in a later batch", async () => {
    const { job } = await createEcho(user);
    const before = await balanceOf(user.accountId);
    const once = await deliver([{ job_id: job.id }, { job_id: job.id }]);
    expect(once.result.explicitAcks.sort()).toEqual([...once.ids].sort());
    const again = await deliver([{ job_id: job.id }]);
    expect(again.result.explicitAcks).toEqual(again.ids);
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "capture", amount: String(ECHO_COST) }]);
    expect(await balanceOf(user.accountId)).toMatchObject({ balance: before.balance - ECHO_COST });
    expect((await jobRow(job.id)).attempts).toBe(1);
  });

  it("a crash after the capture but before the ack: the redelivery is acked and changes nothing", async () => {
    const { job } = await createEcho(user);
    // The first delivery completes in the database; its acks are lost with the crashed invocation.
    await deliver([{ job_id: job.id }]);
    const after = await balanceOf(user.accountId);
    const redelivery = await deliver([{ job_id: job.id }], { attempts: 2 });
    expect(redelivery.result.explicitAcks).toEqual(redelivery.ids);
    expect(redelivery.result.retryMessages).toEqual([]);
    expect(await balanceOf(user.accountId)).toEqual(after);
    expect(await resolutionsOf(job.id)).toHaveLength(1);
  });

  it("one failing job is retried alone, with backoff; its batch-mates are acked", async () => {
    const ok1 = await createEcho(user);
    const failing = await createEcho(user, { fail_times: 1 });
    const ok2 = await createEcho(user);
    const { result, ids, delays } = await deliver([
      { job_id: ok1.job.id },
      { job_id: failing.job.id },
      { job_id: ok2.job.id },
    ]);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.ackAll).toBe(false);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([ids[1]]);
    const delay = delays.get(ids[1] ?? "") ?? 0;
    expect(delay).toBeGreaterThanOrEqual(Math.floor(BACKOFF_BASE_SECONDS / 2));
    expect(delay).toBeLessThanOrEqual(BACKOFF_BASE_SECONDS);
    expect(result.explicitAcks.sort()).toEqual([ids[0], ids[2]].sort());
    expect(await jobRow(failing.job.id)).toMatchObject({
      status: "queued",
      attempts: 1,
      hold_status: "pending",
    });
    expect((await jobRow(failing.job.id)).last_error).toContain("failing attempt 1");

    const retried = await deliver([{ job_id: failing.job.id }], { attempts: 2 });
    expect(retried.result.explicitAcks).toEqual(retried.ids);
    expect(await jobRow(failing.job.id)).toMatchObject({
      status: "succeeded",
      attempts: 2,
      hold_status: "posted",
    });
  });

  it("backs off exponentially: the delay grows with the attempt", async () => {
    const { job } = await createEcho(user, { fail_times: 3 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const delivery = await deliver([{ job_id: job.id }], { attempts: attempt });
      delays.push(delivery.delays.get(delivery.ids[0] ?? "") ?? -1);
    }
    expect(delays[0]).toBeLessThanOrEqual(BACKOFF_BASE_SECONDS);
    expect(delays[1]).toBeGreaterThanOrEqual(BACKOFF_BASE_SECONDS);
    expect(delays[2]).toBeGreaterThanOrEqual(2 * BACKOFF_BASE_SECONDS);
  });

  it("a job failing on its last attempt is dead-lettered with its hold released, without the DLQ", async () => {
    const { job } = await createEcho(user, { fail_times: 1_000_000 });
    for (let attempt = 1; attempt <= 5; attempt += 1)
      await deliver([{ job_id: job.id }], { attempts: attempt });
    expect(await jobRow(job.id)).toMatchObject({
      status: "dead_lettered",
      attempts: 5,
      hold_status: "voided",
    });
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "release", amount: String(ECHO_COST) }]);
    const late = await deliver([{ job_id: job.id }], { attempts: 6 });
    expect(late.result.explicitAcks).toEqual(late.ids);
    expect(await resolutionsOf(job.id)).toHaveLength(1);
  });

  it("a permanent failure ends the job failed at once, hold released", async () => {
    const { job } = await createEcho(user, { fail_times: 1, fail_permanently: true });
    const { result, ids } = await deliver([{ job_id: job.id }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await jobRow(job.id)).toMatchObject({ status: "failed", attempts: 1, hold_status: "voided" });
  });

  it("acks malformed messages and messages for unknown jobs without touching anything", async () => {
    const { result, ids } = await deliver([
      "nonsense",
      { job_id: "not-a-uuid" },
      { job_id: crypto.randomUUID() },
    ]);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
  });

  it("records heartbeats and acks them", async () => {
    const { result, ids } = await deliver([
      { kind: "heartbeat", deployment: "test-deploy", sent_at: new Date().toISOString() },
    ]);
    expect(result.explicitAcks).toEqual(ids);
    const rows = await rawSql<{ role: string; deployment: string }>(
      "select role, deployment from worker_heartbeats where deployment = 'test-deploy'",
    );
    expect(rows).toEqual([{ role: "all-in-one", deployment: "test-deploy" }]);
  });

  it("does nothing on a Worker with MVP_WORKER_ENABLED=false: the messages wait for the real consumer", async () => {
    const { job } = await createEcho(user);
    const { result } = await deliver([{ job_id: job.id }], { env: { MVP_WORKER_ENABLED: "false" } });
    expect(result.retryBatch.retry).toBe(true);
    expect(await jobRow(job.id)).toMatchObject({ status: "queued", attempts: 0 });
    await deliver([{ job_id: job.id }]);
  });

  it("an attempt that runs past its type's timeout fails and is retried", async () => {
    const slow = defineJobType({
      name: "slow",
      description: "never finishes in time",
      input: z.object({}),
      cost: () => 1,
      run: () => new Promise(() => {}),
      timeoutMs: 50,
    });
    const created = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId: user.accountId },
      idempotencyKey: crypto.randomUUID(),
      fingerprint: "0".repeat(64),
      type: "slow",
      input: {},
      cost: 1,
      maxAttempts: 3,
    });
    if (created.status !== "created") throw new Error("not created");
    const batch = createMessageBatch(JOBS_QUEUE_NAME, [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { job_id: created.job.id } },
    ]);
    await handleJobsBatch(batch, testServices(), { registry: createRegistry([slow]) });
    const result = await getQueueResult(batch, createExecutionContext());
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m1"]);
    const row = await jobRow(created.job.id);
    expect(row).toMatchObject({ status: "queued", attempts: 1 });
    expect(row.last_error).toContain("JobTimeoutError");
    await rawSql("select * from cancel_job($1, $2)", [user.accountId, created.job.id]);
  });

  it("a job whose type is no longer registered fails, its hold released", async () => {
    const created = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId: user.accountId },
      idempotencyKey: crypto.randomUUID(),
      fingerprint: "0".repeat(64),
      type: "retired",
      input: {},
      cost: 2,
      maxAttempts: 3,
    });
    if (created.status !== "created") throw new Error("not created");
    const { result, ids } = await deliver([{ job_id: created.job.id }]);
    expect(result.explicitAcks).toEqual(ids);
    expect(await jobRow(created.job.id)).toMatchObject({ status: "failed", hold_status: "voided" });
    expect((await jobRow(created.job.id)).last_error).toContain("unknown job type");
  });
});
