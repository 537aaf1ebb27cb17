import { afterAll, describe, expect, it } from "vitest";
import { createJob } from "../../src/jobs/store.ts";
import { grantCredits } from "../../src/ledger/index.ts";
import { expectProblem } from "../support/http.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import { ADMIN, fetchWith, opsEnv, RecordingQueue, seedDeadLetter } from "./support.ts";

type RetryBody = { outcome: string; job: { id: string; status: string; cost: number }; queued: boolean };

function retry(jobId: string, queue = new RecordingQueue()) {
  return fetchWith(
    `/api/ops/dead-letters/${jobId}/retry`,
    { method: "POST", headers: ADMIN },
    opsEnv({}, queue),
  );
}

async function holdOf(jobId: string) {
  const rows = await rawSql<{ status: string; amount: string }>(
    "select t.status, t.amount from jobs j join transfers t on t.id = j.hold_id where j.id = $1",
    [jobId],
  );
  return rows[0];
}

afterAll(async () => {
  await expectLedgerOk();
});

describe("dead letters", () => {
  it("GET /api/ops/dead-letters lists dead letters not retried yet", async () => {
    const { jobId } = await seedDeadLetter();
    const response = await fetchWith("/api/ops/dead-letters", { headers: ADMIN });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { id: string; error: string; cost: number }[] };
    expect(data.find((d) => d.id === jobId)).toMatchObject({ cost: 10, error: "test: attempts exhausted" });
  });

  it("retry = a NEW job with a NEW hold on the same account, queued; the dead letter and its released hold stay", async () => {
    const { accountId, jobId } = await seedDeadLetter({ balance: 100, cost: 10 });
    const queue = new RecordingQueue();
    const response = await retry(jobId, queue);
    expect(response.status).toBe(201);
    const body = (await response.json()) as RetryBody;
    expect(body.outcome).toBe("retried");
    expect(body.job.id).not.toBe(jobId);
    expect(body.job).toMatchObject({ status: "queued", cost: 10 });
    expect(body.queued).toBe(true);
    expect(queue.sent).toEqual([{ job_id: body.job.id }]);

    expect(await holdOf(jobId)).toMatchObject({ status: "voided" });
    expect(await holdOf(body.job.id)).toMatchObject({ status: "pending", amount: "10" });
    expect(await balanceOf(accountId)).toMatchObject({ balance: 100, held: 10, available: 90 });
    const owner = await rawSql<{ account_id: string }>("select account_id from jobs where id = $1", [
      body.job.id,
    ]);
    expect(owner[0]?.account_id).toBe(accountId);

    const listed = (await (await fetchWith("/api/ops/dead-letters", { headers: ADMIN })).json()) as {
      data: { id: string }[];
    };
    expect(listed.data.map((d) => d.id)).not.toContain(jobId);
  });

  it("a second retry answers the first one (200) and places no second hold", async () => {
    const { accountId, jobId } = await seedDeadLetter({ balance: 100 });
    const first = (await (await retry(jobId)).json()) as RetryBody;
    const again = await retry(jobId);
    expect(again.status).toBe(200);
    const body = (await again.json()) as RetryBody;
    expect(body).toMatchObject({ outcome: "already_retried", job: { id: first.job.id } });
    expect((await balanceOf(accountId)).held).toBe(10);
  });

  it("concurrent retries of one dead letter create exactly one job", async () => {
    const { accountId, jobId } = await seedDeadLetter({ balance: 100 });
    const responses = await Promise.all(Array.from({ length: 5 }, () => retry(jobId)));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
    const retries = await rawSql("select * from dead_letter_retries where job_id = $1", [jobId]);
    expect(retries).toHaveLength(1);
    expect((await balanceOf(accountId)).held).toBe(10);
  });

  it("refused with 402 when the account cannot pay a new hold; nothing stored; works after a top-up", async () => {
    const { accountId, jobId } = await seedDeadLetter({ balance: 10, cost: 10 });
    // The released credits are spent meanwhile on another job.
    const other = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId },
      idempotencyKey: `spend-${crypto.randomUUID()}`,
      fingerprint: "c".repeat(64),
      type: "echo",
      input: {},
      cost: 10,
      maxAttempts: 3,
    });
    expect(other.status).toBe("created");
    const jobsBefore = await rawSql("select id from jobs where account_id = $1", [accountId]);

    const refused = await retry(jobId);
    const problem = await expectProblem(refused, 402, "insufficient_credits");
    expect(String(problem.detail)).toContain("0 credits available");
    expect(await rawSql("select id from jobs where account_id = $1", [accountId])).toHaveLength(
      jobsBefore.length,
    );
    expect(await rawSql("select * from dead_letter_retries where job_id = $1", [jobId])).toEqual([]);

    const granted = await grantCredits(ledgerDatabase(), {
      accountId,
      amount: 10,
      ref: `topup-${jobId}`,
      metadata: {},
    });
    expect(granted.status).toBe("applied");
    expect((await retry(jobId)).status).toBe(201);
  });

  it("refuses what is not a dead letter (409), an unknown job (404) and a malformed id (400)", async () => {
    const { accountId } = await seedDeadLetter({ balance: 100 });
    const queued = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId },
      idempotencyKey: `queued-${crypto.randomUUID()}`,
      fingerprint: "d".repeat(64),
      type: "echo",
      input: {},
      cost: 10,
      maxAttempts: 3,
    });
    if (queued.status !== "created") throw new Error("not created");
    await expectProblem(await retry(queued.job.id), 409, "conflict");
    await expectProblem(await retry("00000000-0000-4000-8000-000000000000"), 404, "not_found");
    await expectProblem(await retry("not-a-uuid"), 400, "validation_failed");
  });
});
