import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { completeJobs } from "../../src/jobs/store.ts";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import {
  api,
  createEcho,
  deliver,
  type Funded,
  fundedUser,
  JOBS_QUEUE_NAME,
  jobRequest,
  jobRow,
  RecordingQueue,
  resolutionsOf,
  sweepWith,
} from "../jobs/support.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";

/**
 * The queue and its consumer fail: sends refused, a consumer that dies after capturing but before
 * acking, one that dies between claim and completion. The outbox sweeper and the claim's fencing
 * must make every job run, and every hold resolve, exactly once.
 */
afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(100_000);
});

/** As if every queued job of the user had waited ten minutes past its due time and its last send. */
const ageQueuedJobs = () =>
  rawSql(
    `update jobs set run_after = run_after - interval '10 minutes',
       last_sent_at = last_sent_at - interval '10 minutes'
     where account_id = $1 and status = 'queued'`,
    [user.accountId],
  );

/** As if the leases of these running jobs had run out. */
const expireLeases = (ids: string[]) =>
  rawSql(
    "update jobs set lease_until = now() - interval '1 second' where id = any($1::uuid[]) and status = 'running'",
    [ids],
  );

/**
 * Runs the real consumer on a batch whose runtime dies at the first `ack()`: the jobs were claimed,
 * run and captured, but the queue never hears about it and will deliver the messages again.
 */
async function consumeThenDieBeforeAck(bodies: unknown[]) {
  const batch = createMessageBatch(
    JOBS_QUEUE_NAME,
    bodies.map((body, i) => ({
      id: `doomed-${i}-${crypto.randomUUID()}`,
      timestamp: new Date(),
      attempts: 1,
      body,
    })),
  );
  const dying = {
    queue: batch.queue,
    messages: batch.messages.map((message) => ({
      id: message.id,
      timestamp: message.timestamp,
      attempts: message.attempts,
      body: message.body,
      ack() {
        throw new Error("the isolate was killed before the ack");
      },
      retry() {
        throw new Error("the isolate was killed before the retry");
      },
    })),
    ackAll() {
      throw new Error("the isolate was killed");
    },
    retryAll() {
      throw new Error("the isolate was killed");
    },
  } as unknown as MessageBatch<unknown>;
  await expect(worker.queue(dying, env, createExecutionContext())).rejects.toThrow(/killed/);
}

describe("queue sends fail", () => {
  it("20 jobs whose messages were never sent, and a sweep whose sends fail too: the next sweep delivers each once", async () => {
    const refusing = new RecordingQueue({ fail: true });
    const created = await Promise.all(Array.from({ length: 20 }, () => createEcho(user, {}, refusing)));
    const ids = created.map((c) => c.job.id).sort();
    expect(refusing.sent).toEqual([]);

    await ageQueuedJobs();
    const failedSweep = await sweepWith(refusing);
    expect(failedSweep).toMatchObject({ resend: 20, sent: 0, send_failed: 20 });

    // The failed sweep marked the jobs as sent; once that mark is stale too, they are sent again.
    const working = new RecordingQueue();
    expect((await sweepWith(working)).resend).toBe(0);
    await ageQueuedJobs();
    expect(await sweepWith(working)).toMatchObject({ resend: 20, sent: 20 });
    expect(working.jobIds().sort()).toEqual(ids);

    // Queues delivers at least once: deliver everything twice, in two batches.
    const bodies = working.drain();
    await deliver(bodies.slice(0, 10));
    await deliver(bodies.slice(10));
    await deliver(bodies);
    for (const id of ids) {
      expect(await jobRow(id)).toMatchObject({ status: "succeeded", attempts: 1, hold_status: "posted" });
      expect(await resolutionsOf(id)).toEqual([{ kind: "capture", amount: String(ECHO_COST) }]);
    }
  });
});

describe("a consumer dies", () => {
  it("between capture and ack: the redelivered batch is acked as a no-op, nothing is captured twice", async () => {
    const queue = new RecordingQueue();
    const created = await Promise.all(Array.from({ length: 8 }, () => createEcho(user, {}, queue)));
    const before = await balanceOf(user.accountId);
    const bodies = queue.drain();

    await consumeThenDieBeforeAck(bodies);
    for (const { job } of created) expect((await jobRow(job.id)).status).toBe("succeeded");
    expect((await balanceOf(user.accountId)).balance).toBe(before.balance - 8 * ECHO_COST);

    const redelivered = await deliver(bodies, { attempts: 2 });
    expect(redelivered.result.explicitAcks.sort()).toEqual([...redelivered.ids].sort());
    expect(redelivered.result.retryMessages).toEqual([]);
    for (const { job } of created) {
      expect(await jobRow(job.id)).toMatchObject({ status: "succeeded", attempts: 1 });
      expect(await resolutionsOf(job.id)).toHaveLength(1);
    }
    expect(await balanceOf(user.accountId)).toMatchObject({
      balance: before.balance - 8 * ECHO_COST,
      held: before.held - 8 * ECHO_COST,
    });
  });

  it("between claim and completion: the lease runs out, the sweeper re-sends, the job runs once; the dead consumer's late completion is refused", async () => {
    const queue = new RecordingQueue();
    const created = await Promise.all(Array.from({ length: 4 }, () => createEcho(user, {}, queue)));
    const ids = created.map((c) => c.job.id);
    queue.drain();
    const claims = await rawSql<{ job_id: string; attempt: number }>(
      "select job_id::text, attempt from claim_jobs($1::uuid[], 90)",
      [ids],
    );
    expect(claims).toHaveLength(4);

    await expireLeases(ids);
    const resend = new RecordingQueue();
    expect(await sweepWith(resend)).toMatchObject({ requeued: 4, sent: 4 });
    await deliver(resend.drain());
    for (const id of ids) expect(await jobRow(id)).toMatchObject({ status: "succeeded", attempts: 2 });

    // The first consumer comes back and reports its attempt: stale, nothing changes.
    const late = await completeJobs(
      ledgerDatabase(),
      claims.map((c) => ({ job_id: c.job_id, attempt: c.attempt, outcome: "succeeded" as const })),
    );
    expect(late.map((c) => c.outcome)).toEqual(Array(4).fill("stale"));
    for (const id of ids)
      expect(await resolutionsOf(id)).toEqual([{ kind: "capture", amount: String(ECHO_COST) }]);
  });

  it("a job submitted while the consumer is down and its message lost: the sweeper alone brings it to succeeded", async () => {
    const lost = new RecordingQueue();
    const response = await api("/api/jobs", jobRequest(user.auth, { type: "echo" }), lost);
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    lost.drain(); // the message is lost with the consumer
    await ageQueuedJobs();
    const resend = new RecordingQueue();
    expect((await sweepWith(resend)).resend).toBeGreaterThanOrEqual(1);
    await deliver(resend.drain());
    expect(await jobRow(id)).toMatchObject({ status: "succeeded", hold_status: "posted" });
  });
});
