import { afterEach, describe, expect, it } from "vitest";
import { ECHO_COST } from "../src/jobs/types/echo.ts";
import type { JobView } from "../src/jobs/view.ts";
import { topUp } from "../src/ledger/index.ts";
import { api, deliver, grant, jobRequest, RecordingQueue, resolutionsOf } from "./jobs/support.ts";
import { bearer, createKey, signUp } from "./support/auth.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase } from "./support/ledger.ts";
import { countStatements } from "./support/statements.ts";

afterEach(async () => {
  await expectLedgerOk();
});

/**
 * The path every customer takes: sign up, create an API key, get credits, create a job, the queue
 * consumer runs it, the hold is captured and the balance drops by what the job cost.
 */
describe("critical path", () => {
  it("sign up → key → top-up → job → consumer → captured → balance", async () => {
    const user = await signUp();
    const key = (await createKey(user, "critical path")).secret;

    // The top-up Stripe fulfilment makes (stripe → user, posted), once per Checkout Session.
    const credited = await topUp(ledgerDatabase(), {
      accountId: user.accountId,
      amount: 100,
      ref: `cs_test_${user.accountId}`,
    });
    expect(credited.status).toBe("applied");
    expect(await balanceOf(user.accountId)).toMatchObject({ balance: 100, held: 0, available: 100 });

    const queue = new RecordingQueue();
    const created = await api(
      "/api/jobs",
      jobRequest(bearer(key), { type: "echo", input: { message: "hi" } }),
      queue,
    );
    expect(created.status).toBe(201);
    const job = (await created.json()) as JobView;
    expect(job).toMatchObject({
      type: "echo",
      status: "queued",
      cost: ECHO_COST,
      attempts: 0,
      charged: null,
    });
    expect(await balanceOf(user.accountId)).toMatchObject({ balance: 100, held: ECHO_COST, available: 90 });
    expect(queue.jobIds()).toEqual([job.id]);

    const { result, ids } = await deliver(queue.drain());
    expect(result.explicitAcks).toEqual(ids);
    expect(result.retryMessages).toEqual([]);

    const done = await api(`/api/jobs/${job.id}`, { headers: bearer(key) });
    expect(await done.json()).toMatchObject({
      id: job.id,
      status: "succeeded",
      output: { message: "hi", attempt: 1 },
      charged: ECHO_COST,
      attempts: 1,
    });
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "capture", amount: String(ECHO_COST) }]);
    expect(await balanceOf(user.accountId)).toMatchObject({
      balance: 100 - ECHO_COST,
      held: 0,
      available: 90,
    });
  });

  it("POST /api/jobs is one database statement with an API key, and one with a session", async () => {
    const user = await signUp();
    const key = (await createKey(user, "statements")).secret;
    await grant(user.accountId, 100);

    const byKey = await countStatements(() => api("/api/jobs", jobRequest(bearer(key), { type: "echo" })));
    expect(byKey.result.status).toBe(201);
    expect(byKey.statements).toBe(1);

    const bySession = await countStatements(() =>
      api(
        "/api/jobs",
        jobRequest({ cookie: user.cookie, origin: "http://localhost:8787" }, { type: "echo" }),
      ),
    );
    expect(bySession.result.status).toBe(201);
    expect(bySession.statements).toBe(1);

    const replay = await countStatements(() =>
      api("/api/jobs", jobRequest(bearer(key), { type: "echo" }, "same")),
    );
    const again = await countStatements(() =>
      api("/api/jobs", jobRequest(bearer(key), { type: "echo" }, "same")),
    );
    expect([replay.statements, again.statements]).toEqual([1, 1]);
    expect(again.result.headers.get("idempotent-replayed")).toBe("true");
  });
});
