import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEAD_LETTER_ERROR } from "../../src/jobs/dlq.ts";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import { balanceOf, expectLedgerOk } from "../support/ledger.ts";
import { createEcho, DLQ_NAME, deliver, type Funded, fundedUser, jobRow, resolutionsOf } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(10_000);
});

/** wrangler.toml: the local consumer has max_retries = 3, so Queues delivers a message 4 times. */
const LOCAL_DELIVERIES = 4;

describe("retries exhausted → the dead-letter queue", () => {
  it("a job that always fails reaches the DLQ; its consumer dead-letters it and releases the hold once", async () => {
    const { job } = await createEcho(user, { fail_times: Number.MAX_SAFE_INTEGER });
    const start = await balanceOf(user.accountId);
    for (let attempt = 1; attempt <= LOCAL_DELIVERIES; attempt += 1) {
      const { result, ids } = await deliver([{ job_id: job.id }], { attempts: attempt });
      expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    }
    expect(await jobRow(job.id)).toMatchObject({
      status: "queued",
      attempts: LOCAL_DELIVERIES,
      hold_status: "pending",
    });

    const dead = await deliver([{ job_id: job.id }], { queue: DLQ_NAME });
    expect(dead.result.explicitAcks).toEqual(dead.ids);
    const row = await jobRow(job.id);
    expect(row).toMatchObject({ status: "dead_lettered", hold_status: "voided" });
    expect(row.last_error).toContain(`failing attempt ${LOCAL_DELIVERIES}`);
    expect(await balanceOf(user.accountId)).toMatchObject({
      balance: start.balance,
      held: start.held - ECHO_COST,
      available: start.available + ECHO_COST,
    });

    // Delivered to the DLQ twice: still one release.
    const again = await deliver([{ job_id: job.id }, { job_id: job.id }], { queue: DLQ_NAME });
    expect(again.result.explicitAcks.sort()).toEqual([...again.ids].sort());
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "release", amount: String(ECHO_COST) }]);
  });

  it("keeps a generic error when the job never recorded one (e.g. it was never claimed)", async () => {
    const { job } = await createEcho(user);
    await deliver([{ job_id: job.id }], { queue: DLQ_NAME });
    expect(await jobRow(job.id)).toMatchObject({ status: "dead_lettered", last_error: DEAD_LETTER_ERROR });
  });

  it("leaves a job that finished meanwhile alone: no release after a capture", async () => {
    const { job } = await createEcho(user);
    await deliver([{ job_id: job.id }]);
    const dead = await deliver([{ job_id: job.id }], { queue: DLQ_NAME });
    expect(dead.result.explicitAcks).toEqual(dead.ids);
    expect(await jobRow(job.id)).toMatchObject({ status: "succeeded", hold_status: "posted" });
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "capture", amount: String(ECHO_COST) }]);
  });

  it("one all-in-one Worker consumes both its jobs queue and its own DLQ without losing either (workers-sdk#4517)", async () => {
    const toRun = await createEcho(user);
    const toBury = await createEcho(user);
    const [jobs, dlq] = await Promise.all([
      deliver([{ job_id: toRun.job.id }]),
      deliver([{ job_id: toBury.job.id }], { queue: DLQ_NAME }),
    ]);
    expect(jobs.result.explicitAcks).toEqual(jobs.ids);
    expect(dlq.result.explicitAcks).toEqual(dlq.ids);
    expect((await jobRow(toRun.job.id)).status).toBe("succeeded");
    expect((await jobRow(toBury.job.id)).status).toBe("dead_lettered");
  });

  it("with the database down, both consumers retry their messages instead of acking them", async () => {
    const { job } = await createEcho(user);
    const down = { LOCAL_NEON_URL: "http://127.0.0.1:1" };
    const jobs = await deliver([{ job_id: job.id }], { env: down });
    expect(jobs.result.explicitAcks).toEqual([]);
    expect(jobs.result.retryMessages.map((m) => m.msgId)).toEqual(jobs.ids);
    const dlq = await deliver([{ job_id: job.id }], { queue: DLQ_NAME, env: down });
    expect(dlq.result.explicitAcks).toEqual([]);
    expect(dlq.result.retryMessages.map((m) => m.msgId)).toEqual(dlq.ids);
    expect(await jobRow(job.id)).toMatchObject({ status: "queued", attempts: 0 });
    await deliver([{ job_id: job.id }]);
  });
});
