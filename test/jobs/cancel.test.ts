import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import type { JobView } from "../../src/jobs/view.ts";
import { expectProblem } from "../support/http.ts";
import { balanceOf, expectLedgerOk, rawSql } from "../support/ledger.ts";
import { api, createEcho, deliver, type Funded, fundedUser, jobRow, resolutionsOf } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(10_000);
});

const cancel = (id: string, auth = user.auth) =>
  api(`/api/jobs/${id}/cancel`, { method: "POST", headers: auth });

describe("POST /api/jobs/:id/cancel", () => {
  it("cancels a queued job and releases its hold, once; canceling again answers the same job", async () => {
    const { job } = await createEcho(user);
    const before = await balanceOf(user.accountId);
    const first = await cancel(job.id);
    expect(first.status).toBe(200);
    const canceled = (await first.json()) as JobView;
    expect(canceled).toMatchObject({ id: job.id, status: "canceled" });
    expect((await balanceOf(user.accountId)).available).toBe(before.available + ECHO_COST);
    const second = await cancel(job.id);
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual(canceled);
    expect(await resolutionsOf(job.id)).toEqual([{ kind: "release", amount: String(ECHO_COST) }]);
    const late = await deliver([{ job_id: job.id }]);
    expect(late.result.explicitAcks).toEqual(late.ids);
    expect((await jobRow(job.id)).status).toBe("canceled");
  });

  it("a running or finished job is 409 conflict and keeps its hold's outcome", async () => {
    const { job } = await createEcho(user);
    await rawSql("select * from claim_jobs($1::uuid[], 60)", [[job.id]]);
    await expectProblem(await cancel(job.id), 409, "conflict");
    expect((await jobRow(job.id)).hold_status).toBe("pending");
    await rawSql("update jobs set lease_until = now() - interval '1 second' where id = $1", [job.id]);
    await rawSql("select * from sweep_jobs(120, 100)");
    await deliver([{ job_id: job.id }], { attempts: 2 });
    await expectProblem(await cancel(job.id), 409, "conflict");
    expect(await jobRow(job.id)).toMatchObject({ status: "succeeded", hold_status: "posted" });
  });

  it("another account's job is a 404 exactly like a job that does not exist", async () => {
    const { job } = await createEcho(user);
    const other = await fundedUser(0);
    const theirs = await cancel(job.id, other.auth);
    const missing = await cancel(crypto.randomUUID(), other.auth);
    const malformed = await cancel("not-a-uuid", other.auth);
    const shape = async (r: Response) => {
      const { request_id: _, ...body } = (await r.json()) as Record<string, unknown>;
      return { status: r.status, body };
    };
    const [a, b, c] = await Promise.all([shape(theirs), shape(missing), shape(malformed)]);
    expect(a.status).toBe(404);
    expect(a).toEqual(b);
    expect(c).toEqual(b);
    expect((await jobRow(job.id)).status).toBe("queued");
    await cancel(job.id);
  });

  it("cancel racing the consumer: the hold is captured XOR released, never both", async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // Head starts in ms (negative: the consumer starts first), so both orders and near-ties all occur.
    const offsets = [-40, -10, -5, -2, 0, 0, 0, 0, 2, 5, 10, 40];
    const outcomes = { captured: 0, released: 0 };
    for (const offset of offsets) {
      const { job } = await createEcho(user);
      const [canceled] = await Promise.all([
        sleep(Math.max(0, -offset)).then(() => cancel(job.id)),
        sleep(Math.max(0, offset)).then(() => deliver([{ job_id: job.id }])),
      ]);
      const resolutions = await resolutionsOf(job.id);
      expect(resolutions).toHaveLength(1);
      const row = await jobRow(job.id);
      if (resolutions[0]?.kind === "capture") {
        outcomes.captured += 1;
        expect(canceled.status).toBe(409);
        expect(row.status).toBe("succeeded");
      } else {
        outcomes.released += 1;
        expect(canceled.status).toBe(200);
        expect(row.status).toBe("canceled");
      }
    }
    expect(outcomes.captured).toBeGreaterThan(0);
    expect(outcomes.released).toBeGreaterThan(0);
  });
});
