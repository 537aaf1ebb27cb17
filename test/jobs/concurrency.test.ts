import { afterEach, describe, expect, it } from "vitest";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import type { JobView } from "../../src/jobs/view.ts";
import { balanceOf, expectLedgerOk, rawSql } from "../support/ledger.ts";
import { api, fundedUser, jobRequest, RecordingQueue } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

describe("POST /api/jobs under concurrency", () => {
  it("50 concurrent requests with one key: one job, one hold, every 2xx carries its id", async () => {
    const user = await fundedUser(1000);
    const queue = new RecordingQueue();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        api("/api/jobs", jobRequest(user.auth, { type: "echo" }, "one-key"), queue),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201),
      statuses.join(","),
    ).toBe(true);
    const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as JobView).id)));
    expect(ids.size).toBe(1);
    expect(responses.filter((r) => r.headers.get("idempotent-replayed") === null)).toHaveLength(1);
    const [counts] = await rawSql<{ jobs: string; holds: string }>(
      `select (select count(*) from jobs where account_id = $1) as jobs,
         (select count(*) from transfers t join accounts a on a.ledger_account_id = t.debit_account_id
           where a.id = $1 and t.kind = 'hold') as holds`,
      [user.accountId],
    );
    expect(counts).toEqual({ jobs: "1", holds: "1" });
    expect(queue.jobIds()).toEqual([...ids]);
    expect(await balanceOf(user.accountId)).toMatchObject({ held: ECHO_COST, available: 1000 - ECHO_COST });
  });

  it("30 concurrent distinct keys against 10 jobs' worth of credits: exactly 10 jobs, the rest 402", async () => {
    const user = await fundedUser(10 * ECHO_COST);
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        api("/api/jobs", jobRequest(user.auth, { type: "echo" }, `distinct-${i}`)),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 402)).toHaveLength(20);
    const [row] = await rawSql<{ n: string }>("select count(*) as n from jobs where account_id = $1", [
      user.accountId,
    ]);
    expect(row?.n).toBe("10");
    const [keys] = await rawSql<{ n: string }>(
      "select count(*) as n from idempotency_keys where account_id = $1",
      [user.accountId],
    );
    expect(keys?.n).toBe("10");
    expect(await balanceOf(user.accountId)).toMatchObject({
      balance: 10 * ECHO_COST,
      held: 10 * ECHO_COST,
      available: 0,
    });
  });
});
