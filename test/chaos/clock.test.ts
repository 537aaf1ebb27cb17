import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { completeJobs } from "../../src/jobs/store.ts";
import type { JobView } from "../../src/jobs/view.ts";
import {
  api,
  createEcho,
  deliver,
  type Funded,
  fundedUser,
  jobRequest,
  jobRow,
  RecordingQueue,
  resolutionsOf,
  sweepWith,
} from "../jobs/support.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import { expireHoldsOf, expireIdempotencyKeys } from "./support.ts";

/**
 * Time passes faster than the tests: timestamps in the database are moved into the past (the clock
 * itself is not touched), past a day's Idempotency-Key expiry and past holds' TTL.
 */
afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(100_000);
});

async function post(key: string, input: Record<string, unknown>) {
  const response = await api("/api/jobs", jobRequest(user.auth, { type: "echo", input }, key));
  expect(response.status, await response.clone().text()).toBe(201);
  return {
    job: (await response.json()) as JobView,
    replayed: response.headers.get("idempotent-replayed") === "true",
  };
}

describe("past the Idempotency-Key expiry", () => {
  it("a key is usable again for the same request and for a different one: new jobs, not replays or 422s", async () => {
    const same = `chaos-key-${crypto.randomUUID()}`;
    const other = `chaos-key-${crypto.randomUUID()}`;
    const first = await post(same, { message: "one" });
    const second = await post(other, { message: "two" });
    expect((await post(same, { message: "one" })).replayed).toBe(true);
    const conflict = await api(
      "/api/jobs",
      jobRequest(user.auth, { type: "echo", input: { message: "else" } }, other),
    );
    expect(conflict.status).toBe(422);

    await expireIdempotencyKeys(user.accountId, [same, other]);
    const again = await post(same, { message: "one" });
    expect(again.replayed).toBe(false);
    expect(again.job.id).not.toBe(first.job.id);
    const reused = await post(other, { message: "something else entirely" });
    expect(reused.replayed).toBe(false);
    expect(reused.job.id).not.toBe(second.job.id);
    // From now on the key answers with what its new request produced.
    expect((await post(same, { message: "one" })).job.id).toBe(again.job.id);
  });

  it("the sweeper prunes expired keys once; a pruned key starts over", async () => {
    const key = `chaos-key-${crypto.randomUUID()}`;
    const first = await post(key, {});
    await expireIdempotencyKeys(user.accountId, [key]);
    const [a, b] = await Promise.all([sweepWith(), sweepWith()]);
    expect((a?.key_pruned ?? 0) + (b?.key_pruned ?? 0)).toBeGreaterThanOrEqual(1);
    const [left] = await rawSql<{ n: string }>(
      "select count(*) as n from idempotency_keys where account_id = $1 and key = $2",
      [user.accountId, key],
    );
    expect(left?.n).toBe("0");
    const again = await post(key, {});
    expect(again.replayed).toBe(false);
    expect(again.job.id).not.toBe(first.job.id);
  });
});

describe("past the hold TTL", () => {
  it("queued and running jobs expire, each hold is released exactly once by racing sweeps, and nothing runs or captures afterwards", async () => {
    const queue = new RecordingQueue();
    const created = await Promise.all(Array.from({ length: 6 }, () => createEcho(user, {}, queue)));
    const ids = created.map((c) => c.job.id);
    const before = await balanceOf(user.accountId);
    // Two of them are running when their holds run out.
    const running = ids.slice(0, 2);
    const claims = await rawSql<{ job_id: string; attempt: number }>(
      "select job_id::text, attempt from claim_jobs($1::uuid[], 90)",
      [running],
    );

    await expireHoldsOf(ids);
    const sweeps = await Promise.all([sweepWith(), sweepWith(), sweepWith()]);
    expect(sweeps.reduce((n, s) => n + s.expired, 0)).toBe(6);
    for (const id of ids) {
      expect(await jobRow(id)).toMatchObject({ status: "expired", hold_status: "voided" });
      expect((await resolutionsOf(id)).map((r) => r.kind)).toEqual(["expire"]);
    }
    expect(await balanceOf(user.accountId)).toMatchObject({
      balance: before.balance,
      held: before.held - 6 * 10,
    });

    // The messages still arrive, and the running attempts still report: neither captures anything.
    const late = await deliver(queue.drain());
    expect(late.result.explicitAcks.sort()).toEqual([...late.ids].sort());
    const completions = await completeJobs(
      ledgerDatabase(),
      claims.map((c) => ({ job_id: c.job_id, attempt: c.attempt, outcome: "succeeded" as const })),
    );
    expect(completions.map((c) => c.outcome)).toEqual(["stale", "stale"]);
    expect(await sweepWith()).toMatchObject({ expired: 0 });
    for (const id of ids) expect((await resolutionsOf(id)).map((r) => r.kind)).toEqual(["expire"]);
    expect((await balanceOf(user.accountId)).balance).toBe(before.balance);
  });

  it("a hold that runs out while its job runs: the completion cannot capture, the job ends expired", async () => {
    const { job } = await createEcho(user);
    const [claim] = await rawSql<{ attempt: number }>("select attempt from claim_jobs($1::uuid[], 90)", [
      [job.id],
    ]);
    await expireHoldsOf([job.id]);
    // The expiry happens (sweeper) before the attempt reports back.
    await rawSql("select * from expire_holds(now(), 100)");
    const [completion] = await completeJobs(ledgerDatabase(), [
      { job_id: job.id, attempt: claim?.attempt ?? 1, outcome: "succeeded" },
    ]);
    expect(completion?.outcome).toBe("expired");
    expect(await jobRow(job.id)).toMatchObject({ status: "expired", hold_status: "voided" });
    expect((await resolutionsOf(job.id)).map((r) => r.kind)).toEqual(["expire"]);
  });
});
