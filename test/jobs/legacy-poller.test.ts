import { createMessageBatch } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { handleJobsBatch } from "../../src/jobs/consumer.ts";
import { runLegacyPoller } from "../../src/jobs/legacy-poller.ts";
import { createRegistry, defineJobType } from "../../src/jobs/registry.ts";
import { createJob } from "../../src/jobs/store.ts";
import { echo } from "../../src/jobs/types/echo.ts";
import { expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import { testServices } from "../support/services.ts";
import { createEcho, type Funded, fundedUser, JOBS_QUEUE_NAME, jobRow, resolutionsOf } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(10_000);
});

const enabled = () => testServices({ LEGACY_QUEUE_WORKER_ENABLED: "true" });

describe("the legacy Postgres poller", () => {
  it("is off unless LEGACY_QUEUE_WORKER_ENABLED=true", async () => {
    const { job } = await createEcho(user);
    expect(await runLegacyPoller(testServices())).toEqual({ enabled: false, ran: 0 });
    expect((await jobRow(job.id)).status).toBe("queued");
    await runLegacyPoller(enabled());
  });

  it("runs queued jobs through the same executor: capture, retry later, dead-letter", async () => {
    const ok = await createEcho(user, { charge: 4 });
    const flaky = await createEcho(user, { fail_times: 1 });
    const result = await runLegacyPoller(enabled());
    expect(result.ran).toBe(2);
    expect(await jobRow(ok.job.id)).toMatchObject({ status: "succeeded", charged: "4" });
    // The retry waits in the row (run_after), not in a queue: not due yet, so not claimed again.
    expect(await jobRow(flaky.job.id)).toMatchObject({ status: "queued", attempts: 1 });
    expect((await runLegacyPoller(enabled())).ran).toBe(0);
    await rawSql("update jobs set run_after = now() where id = $1", [flaky.job.id]);
    expect((await runLegacyPoller(enabled())).ran).toBe(1);
    expect(await jobRow(flaky.job.id)).toMatchObject({ status: "succeeded", attempts: 2 });
  });

  it("the poller and the queue consumer side by side never run one job twice", async () => {
    const runs = new Map<string, number>();
    const counted = defineJobType({
      name: "counted",
      description: "counts its runs",
      input: z.object({}),
      cost: () => 1,
      run: async (_, ctx) => {
        runs.set(ctx.jobId, (runs.get(ctx.jobId) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { output: null };
      },
      timeoutMs: 5_000,
    });
    const registry = createRegistry([counted, echo]);
    const ids: string[] = [];
    for (let i = 0; i < 24; i += 1) {
      const created = await createJob(ledgerDatabase(), {
        caller: { via: "account", accountId: user.accountId },
        idempotencyKey: crypto.randomUUID(),
        fingerprint: "0".repeat(64),
        type: "counted",
        input: {},
        cost: 1,
        maxAttempts: 3,
      });
      if (created.status !== "created") throw new Error("not created");
      ids.push(created.job.id);
    }
    const batch = (part: string[]) =>
      createMessageBatch(
        JOBS_QUEUE_NAME,
        part.map((id, i) => ({
          id: `m-${i}-${id}`,
          timestamp: new Date(),
          attempts: 1,
          body: { job_id: id },
        })),
      );
    await Promise.all([
      runLegacyPoller(enabled(), { registry }),
      handleJobsBatch(batch(ids.slice(0, 12)), testServices(), { registry }),
      runLegacyPoller(enabled(), { registry }),
      handleJobsBatch(batch(ids.slice(6, 24)), testServices(), { registry }),
      runLegacyPoller(enabled(), { registry }),
    ]);
    await runLegacyPoller(enabled(), { registry });
    for (const id of ids) {
      expect(runs.get(id), id).toBe(1);
      expect(await jobRow(id)).toMatchObject({ status: "succeeded", attempts: 1 });
      expect(await resolutionsOf(id)).toHaveLength(1);
    }
  });
});
