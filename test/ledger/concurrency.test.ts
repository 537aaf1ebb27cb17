import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { topUp } from "../../src/ledger/index.ts";
import { captureHold, expireHolds, placeHold, releaseHold } from "../support/holds.ts";
import {
  balanceOf,
  expectBalance,
  expectLedgerOk,
  ledgerDatabase,
  makeAccount,
  rawSql,
  tally,
} from "../support/ledger.ts";

/**
 * Races through the real driver and the local Neon server (a pool of real Postgres connections), so
 * the database, not the test, decides who wins. Every test fails on any thrown error: a deadlock or a
 * CHECK violation surfaces as one.
 */
const database = ledgerDatabase();

afterAll(() => expectLedgerOk());

async function settled<T>(calls: Promise<T>[]) {
  const results = await Promise.allSettled(calls);
  const errors = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
  expect(errors, "no call may fail").toEqual([]);
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

describe("concurrent holds", () => {
  it("30 holds against a balance of 10 × cost: exactly 10 succeed, available ends at 0", async () => {
    const cost = 7;
    const { accountId } = await makeAccount({ balance: 10 * cost });
    const results = await settled(
      Array.from({ length: 30 }, (_, i) =>
        placeHold(database, { accountId, amount: cost, ref: `job:race:${i}` }),
      ),
    );
    expect(tally(results)).toEqual({ applied: 10, "rejected:insufficient_credits": 20 });
    for (const r of results) expect(r.status === "rejected" || r.available >= 0).toBe(true);
    await expectBalance(accountId, { balance: 10 * cost, held: 10 * cost, available: 0 });
  });
});

describe("capture-vs-release races", () => {
  it("100 holds, each captured and released at once: each ends captured XOR released", async () => {
    const { accountId } = await makeAccount({ balance: 100 * 10 });
    const holds = await settled(
      Array.from({ length: 100 }, (_, i) =>
        placeHold(database, { accountId, amount: 10, ref: `job:cr:${i}` }),
      ),
    );
    const holdIds = holds.map((h) => (h.status === "applied" ? h.holdId : -1));
    expect(holdIds).not.toContain(-1);

    const raced = await settled(
      holdIds.flatMap((holdId, i) =>
        i % 2 === 0
          ? [captureHold(database, holdId, { amount: 6 }), releaseHold(database, holdId)]
          : [releaseHold(database, holdId), captureHold(database, holdId, { amount: 6 })],
      ),
    );
    let captured = 0;
    for (let i = 0; i < holdIds.length; i++) {
      const pair = [raced[2 * i], raced[2 * i + 1]];
      const winners = pair.filter((r) => r?.status === "applied");
      const losers = pair.filter((r) => r?.status === "rejected" && r.reason === "already_resolved");
      expect(winners.length, `hold ${holdIds[i]}`).toBe(1);
      expect(losers.length, `hold ${holdIds[i]}`).toBe(1);
      const winner = winners[0];
      if (winner?.status === "applied" && winner.resolution === "capture") captured += 6;
    }
    const [resolutions] = await rawSql<{ n: string }>(
      "select count(*) as n from transfers where pending_id = any($1::bigint[])",
      [holdIds],
    );
    expect(Number(resolutions?.n)).toBe(100);
    await expectBalance(accountId, { balance: 1000 - captured, held: 0, available: 1000 - captured });
  });
});

describe("opposite transfers", () => {
  beforeAll(async () => {
    // Tollgate has no user → user transfer, so this test adds one to its own database: it locks through
    // the production ledger_lock_accounts() and then updates debit first, credit second — the order
    // that deadlocks if the helper stopped imposing one global order.
    await rawSql(`
      create or replace function test_transfer(p_debit bigint, p_credit bigint, p_amount bigint) returns void
      language plpgsql as $$
      begin
        perform ledger_lock_accounts(array[p_debit, p_credit]);
        update ledger_accounts set debits_posted = debits_posted + p_amount where id = p_debit;
        perform pg_sleep(0.002);
        update ledger_accounts set credits_posted = credits_posted + p_amount where id = p_credit;
        insert into transfers (debit_account_id, credit_account_id, amount, kind, status, metadata)
        values (p_debit, p_credit, p_amount, 'grant', 'posted', '{"test": "opposite transfers"}');
      end $$`);
  });

  it("200 concurrent transfers A→B and B→A: no deadlock, totals conserved", async () => {
    const a = await makeAccount({ balance: 10_000 });
    const b = await makeAccount({ balance: 10_000 });
    await settled(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? rawSql("select test_transfer($1, $2, 3)", [a.ledgerAccountId, b.ledgerAccountId])
          : rawSql("select test_transfer($1, $2, 5)", [b.ledgerAccountId, a.ledgerAccountId]),
      ),
    );
    await expectBalance(a.accountId, { balance: 10_000 - 300 + 500 });
    await expectBalance(b.accountId, { balance: 10_000 + 300 - 500 });
  });

  // Deterministic versions of these races: a transaction that locks in the global order (revenue
  // shard, then the user) is parked between its two locks while a ledger call touches the same two
  // accounts. A call that locked the user before the shard would deadlock with it; each must wait.
  it.each(["placeHold", "captureHold", "releaseHold", "expireHolds"] as const)(
    "%s meeting a transaction parked on the user's revenue shard waits instead of deadlocking",
    async (operation) => {
      await rawSql(`
        create or replace function test_lock_pair_slowly(p_first bigint, p_second bigint) returns void
        language plpgsql as $$
        begin
          perform 1 from ledger_accounts where id = p_first for no key update;
          perform pg_sleep(0.4);
          perform 1 from ledger_accounts where id = p_second for no key update;
        end $$`);
      const { accountId, ledgerAccountId } = await makeAccount({ balance: 100 });
      const [shard] = await rawSql<{ id: string }>("select ledger_system_account('revenue', $1) as id", [
        ledgerAccountId,
      ]);
      const hold = await placeHold(database, { accountId, amount: 5, ttlSeconds: 60 });
      if (hold.status !== "applied") throw new Error("hold not placed");
      const slow = rawSql("select test_lock_pair_slowly($1, $2)", [shard?.id, ledgerAccountId]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const call = {
        placeHold: () => placeHold(database, { accountId, amount: 5 }),
        captureHold: () => captureHold(database, hold.holdId),
        releaseHold: () => releaseHold(database, hold.holdId),
        expireHolds: () => expireHolds(database, { now: new Date(Date.now() + 120_000), limit: 1000 }),
      }[operation];
      const [, result] = await settled<unknown>([slow, call()]);
      expect(
        Array.isArray(result) ? result.length > 0 : (result as { status: string }).status === "applied",
      ).toBe(true);
    },
  );

  it("expiry batches racing holds, captures and top-ups on shared shards: no deadlock", async () => {
    // 32 consecutive ledger accounts: every revenue shard serves two of them, and each expire_holds
    // batch locks many users and shards at once while single-account calls lock theirs.
    const accounts = [];
    for (let i = 0; i < 32; i++) accounts.push(await makeAccount({ balance: 1_000 }));
    await settled(
      accounts.flatMap(({ accountId }) =>
        Array.from({ length: 3 }, () => placeHold(database, { accountId, amount: 3, ttlSeconds: 60 })),
      ),
    );
    const live = await settled(
      accounts.map(({ accountId }) => placeHold(database, { accountId, amount: 50, ttlSeconds: 86_400 })),
    );
    const soon = new Date(Date.now() + 3_600_000);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 16; i++) calls.push(expireHolds(database, { now: soon, limit: 8 }));
    for (const [i, { accountId }] of accounts.entries()) {
      calls.push(placeHold(database, { accountId, amount: 2, ttlSeconds: 86_400 }));
      calls.push(topUp(database, { accountId, amount: 4, ref: `race-topup-${accountId}` }));
      const hold = live[i];
      if (hold?.status === "applied") calls.push(captureHold(database, hold.holdId, { amount: 20 }));
    }
    await settled(calls);
    await expireHolds(database, { now: soon, limit: 1000 });
    for (const { accountId } of accounts) {
      // 1000 + 4 top-up − 20 captured; the short holds expired, the day-long one is still held.
      expect(await balanceOf(accountId)).toMatchObject({ balance: 984, held: 2 });
    }
  });
});
