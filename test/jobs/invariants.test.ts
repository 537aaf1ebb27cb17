import { describe, expect, it } from "vitest";
import { checkInvariants } from "../../src/ledger/index.ts";
import { expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import { createEcho, deliver, fundedUser } from "./support.ts";

const i5 = async () =>
  (await checkInvariants(ledgerDatabase())).invariants.find((row) => row.invariant === "I5");

/**
 * I5 (docs/ARCHITECTURE.md, The ledger model): each job has exactly one hold; succeeded ⇒ hold posted;
 * failed, dead_lettered, canceled, expired ⇒ voided. Each case breaks it on purpose (bypassing the functions)
 * and puts it back.
 */
describe("ledger_check(): I5", () => {
  it("is reported and holds after real work", async () => {
    const user = await fundedUser(100);
    const { job } = await createEcho(user);
    await deliver([{ job_id: job.id }]);
    expect(await i5()).toMatchObject({ ok: true });
    await expectLedgerOk();
  });

  it.each([
    ["succeeded with a pending hold", "succeeded", "pending"],
    ["canceled with a pending hold", "canceled", "pending"],
    ["failed with a pending hold", "failed", "pending"],
    ["dead_lettered with a pending hold", "dead_lettered", "pending"],
    ["expired with a pending hold", "expired", "pending"],
  ])("fails for a job %s", async (_, status) => {
    const user = await fundedUser(100);
    const { job } = await createEcho(user);
    await rawSql("update jobs set status = $2, lease_until = null where id = $1", [job.id, status]);
    const row = await i5();
    expect(row?.ok).toBe(false);
    expect(row?.detail).toContain(job.id);
    await rawSql("update jobs set status = 'queued' where id = $1", [job.id]);
    expect((await i5())?.ok).toBe(true);
  });

  it("fails for a succeeded job whose hold was released instead of captured", async () => {
    const user = await fundedUser(100);
    const { job } = await createEcho(user);
    await rawSql("select release_hold(hold_id) from jobs where id = $1", [job.id]);
    await rawSql("update jobs set status = 'succeeded' where id = $1", [job.id]);
    expect((await i5())?.ok).toBe(false);
    await rawSql("update jobs set status = 'canceled' where id = $1", [job.id]);
    await expectLedgerOk();
  });

  it("fails for two jobs sharing one hold (the unique index is the first line of defence)", async () => {
    const user = await fundedUser(100);
    const a = await createEcho(user);
    const b = await createEcho(user);
    await rawSql("alter table jobs drop constraint jobs_hold_id_key");
    try {
      await rawSql("update jobs set hold_id = (select hold_id from jobs where id = $1) where id = $2", [
        a.job.id,
        b.job.id,
      ]);
      expect((await i5())?.ok).toBe(false);
    } finally {
      await rawSql(
        "update jobs set hold_id = (select id from transfers where metadata->>'job_id' = $1::text) where id = $1",
        [b.job.id],
      );
      await rawSql("alter table jobs add constraint jobs_hold_id_key unique (hold_id)");
    }
    await expectLedgerOk();
  });
});
