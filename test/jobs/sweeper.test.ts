import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { createJob } from "../../src/jobs/store.ts";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import {
  createEcho,
  deliver,
  type Funded,
  fundedUser,
  jobRow,
  RecordingQueue,
  resolutionsOf,
  sweepWith,
} from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(10_000);
});

/** Moves a job's due time into the past, as if it had waited that long. */
const ageJob = (id: string, seconds = 600) =>
  rawSql("update jobs set run_after = run_after - make_interval(secs => $2) where id = $1", [id, seconds]);

const expireLease = (id: string) =>
  rawSql("update jobs set lease_until = now() - interval '1 second' where id = $1 and status = 'running'", [
    id,
  ]);

/** Claims a job the way a consumer does, then "crashes": nothing completes it. */
async function claimAndCrash(id: string) {
  const [claim] = await rawSql<{ outcome: string }>("select outcome from claim_jobs($1::uuid[], 60)", [[id]]);
  expect(claim?.outcome).toBe("claimed");
}

describe("the outbox sweeper", () => {
  it("a queue send failure: the request is 201, the sweeper sends the message, the consumer runs the job once", async () => {
    const { job } = await createEcho(user, {}, new RecordingQueue({ fail: true }));
    const queue = new RecordingQueue();
    expect((await sweepWith(queue)).resend).toBe(0); // not stale yet
    await ageJob(job.id);
    const summary = await sweepWith(queue);
    expect(summary).toMatchObject({ resend: 1, sent: 1 });
    expect(queue.jobIds()).toEqual([job.id]);
    await deliver(queue.drain());
    expect(await jobRow(job.id)).toMatchObject({ status: "succeeded", hold_status: "posted" });
    const [holds] = await rawSql<{ n: string }>(
      "select count(*) as n from transfers where kind = 'hold' and metadata->>'job_id' = $1",
      [job.id],
    );
    expect(holds?.n).toBe("1");
  });

  it("marks what it sends: the next sweep leaves the job alone until it is stale again", async () => {
    const { job } = await createEcho(user);
    await ageJob(job.id);
    const queue = new RecordingQueue();
    expect((await sweepWith(queue)).resend).toBe(1);
    expect((await sweepWith(queue)).resend).toBe(0);
    await rawSql("update jobs set last_sent_at = now() - interval '10 minutes' where id = $1", [job.id]);
    expect((await sweepWith(queue)).resend).toBe(1);
    expect(queue.jobIds()).toEqual([job.id, job.id]);
    await deliver(queue.drain());
    expect((await jobRow(job.id)).attempts).toBe(1);
  });

  it("two sweeps at once send each stale job once", async () => {
    const jobs = await Promise.all(Array.from({ length: 8 }, () => createEcho(user)));
    for (const { job } of jobs) await ageJob(job.id);
    const queue = new RecordingQueue();
    const [a, b] = await Promise.all([sweepWith(queue), sweepWith(queue)]);
    expect(a.resend + b.resend).toBe(8);
    expect(queue.jobIds().sort()).toEqual(jobs.map(({ job }) => job.id).sort());
    // And a message sent twice would be harmless anyway: the claim runs the job once.
    await deliver([...queue.drain(), ...jobs.map(({ job }) => ({ job_id: job.id }))]);
    for (const { job } of jobs) expect(await resolutionsOf(job.id)).toHaveLength(1);
  });

  it("recovers an expired lease: the job is queued again and re-sent, then runs", async () => {
    const { job } = await createEcho(user);
    await claimAndCrash(job.id);
    const queue = new RecordingQueue();
    expect((await sweepWith(queue)).requeued).toBe(0); // the lease still runs
    await expireLease(job.id);
    const [a, b] = await Promise.all([sweepWith(queue), sweepWith(queue)]);
    expect(a.requeued + b.requeued).toBe(1);
    expect(queue.jobIds()).toEqual([job.id]);
    expect(await jobRow(job.id)).toMatchObject({ status: "queued", attempts: 1, hold_status: "pending" });
    await deliver(queue.drain(), { attempts: 2 });
    expect(await jobRow(job.id)).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("a worker whose lease was taken back cannot complete the job: only the current attempt may", async () => {
    const { job } = await createEcho(user);
    await claimAndCrash(job.id);
    await expireLease(job.id);
    await sweepWith(new RecordingQueue());
    await claimAndCrash(job.id); // attempt 2 now holds the lease
    const complete = (attempt: number) =>
      rawSql<{ outcome: string }>(
        `select outcome from complete_jobs(jsonb_build_array(jsonb_build_object('job_id', $1::text, 'attempt', $2::int, 'outcome', 'succeeded')))`,
        [job.id, attempt],
      );
    expect((await complete(1))[0]?.outcome).toBe("stale");
    expect(await jobRow(job.id)).toMatchObject({ status: "running", attempts: 2, hold_status: "pending" });
    expect((await complete(2))[0]?.outcome).toBe("succeeded");
    expect((await complete(2))[0]?.outcome).toBe("stale");
    expect(await resolutionsOf(job.id)).toHaveLength(1);
  });

  it("a queued job whose hold the ledger expired before any sweep: its message is acked and the job expires", async () => {
    const created = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId: user.accountId },
      idempotencyKey: crypto.randomUUID(),
      fingerprint: "0".repeat(64),
      type: "echo",
      input: {},
      cost: ECHO_COST,
      maxAttempts: 5,
      holdTtlSeconds: 1,
    });
    if (created.status !== "created") throw new Error("not created");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await rawSql("select * from expire_holds()");
    const late = await deliver([{ job_id: created.job.id }]);
    expect(late.result.explicitAcks).toEqual(late.ids);
    expect(await jobRow(created.job.id)).toMatchObject({
      status: "expired",
      attempts: 0,
      hold_status: "voided",
    });
  });

  it("an expired lease on the last attempt dead-letters the job and releases its hold once", async () => {
    const { job } = await createEcho(user);
    await rawSql("update jobs set max_attempts = 1 where id = $1", [job.id]);
    await claimAndCrash(job.id);
    await expireLease(job.id);
    const queue = new RecordingQueue();
    const [a, b] = await Promise.all([sweepWith(queue), sweepWith(queue)]);
    expect(a.dead_lettered + b.dead_lettered).toBe(1);
    expect(queue.sent).toEqual([]);
    expect(await jobRow(job.id)).toMatchObject({ status: "dead_lettered", hold_status: "voided" });
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "release", amount: String(ECHO_COST) }]);
  });

  it("expires holds past their TTL: the job becomes expired and a late delivery does nothing", async () => {
    const created = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId: user.accountId },
      idempotencyKey: crypto.randomUUID(),
      fingerprint: "0".repeat(64),
      type: "echo",
      input: {},
      cost: ECHO_COST,
      maxAttempts: 5,
      holdTtlSeconds: 1,
    });
    if (created.status !== "created") throw new Error("not created");
    const before = await balanceOf(user.accountId);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await sweepWith(new RecordingQueue())).expired).toBe(1);
    expect(await jobRow(created.job.id)).toMatchObject({ status: "expired", hold_status: "voided" });
    expect(await resolutionsOf(created.job.id)).toEqual([{ kind: "expire", amount: String(ECHO_COST) }]);
    expect((await balanceOf(user.accountId)).available).toBe(before.available + ECHO_COST);
    const late = await deliver([{ job_id: created.job.id }]);
    expect(late.result.explicitAcks).toEqual(late.ids);
    expect((await jobRow(created.job.id)).status).toBe("expired");
  });

  it("a hold that expires while its job runs: the completion cannot capture it, the job ends expired", async () => {
    const created = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId: user.accountId },
      idempotencyKey: crypto.randomUUID(),
      fingerprint: "0".repeat(64),
      type: "echo",
      input: {},
      cost: ECHO_COST,
      maxAttempts: 5,
      holdTtlSeconds: 1,
    });
    if (created.status !== "created") throw new Error("not created");
    await claimAndCrash(created.job.id);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    // The ledger's own expiry, not the sweeper: the job row does not know yet.
    await rawSql("select * from expire_holds()");
    const [done] = await rawSql<{ outcome: string }>(
      `select outcome from complete_jobs(jsonb_build_array(jsonb_build_object('job_id', $1::text, 'attempt', 1, 'outcome', 'succeeded')))`,
      [created.job.id],
    );
    expect(done?.outcome).toBe("expired");
    expect(await jobRow(created.job.id)).toMatchObject({
      status: "expired",
      hold_status: "voided",
      charged: null,
    });
    expect(await resolutionsOf(created.job.id)).toEqual([{ kind: "expire", amount: String(ECHO_COST) }]);
  });

  it("prunes Idempotency-Keys past their expiry", async () => {
    await createEcho(user);
    await rawSql("update idempotency_keys set expires_at = now() - interval '1 minute'");
    const [{ n } = { n: "0" }] = await rawSql<{ n: string }>("select count(*) as n from idempotency_keys");
    expect((await sweepWith(new RecordingQueue())).key_pruned).toBe(Number(n));
    expect(await rawSql("select 1 from idempotency_keys")).toEqual([]);
  });

  it("runs every minute from the cron", async () => {
    const { job } = await createEcho(user, {}, new RecordingQueue({ fail: true }));
    await ageJob(job.id);
    const queue = new RecordingQueue();
    await worker.scheduled(
      createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }),
      { ...env, JOBS_QUEUE: queue as unknown as Queue } as Env,
      createExecutionContext(),
    );
    expect(queue.jobIds()).toEqual([job.id]);
    await deliver(queue.drain());
  });
});
