import { afterAll, describe, expect, it } from "vitest";
import { checkInvariants } from "../../src/ledger/index.ts";
import { captureHold, placeHold, releaseHold } from "../support/holds.ts";
import { expectLedgerOk, ledgerDatabase, makeAccount, rawSql } from "../support/ledger.ts";

/**
 * The rules the database enforces whoever writes to it, tried with raw SQL as the owning role; and
 * ledger_check() noticing each kind of damage (the tampering is undone before the next test).
 */
const database = ledgerDatabase();

afterAll(() => expectLedgerOk());

async function sqlError(text: string, params: unknown[] = []) {
  try {
    await rawSql(text, params);
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error(`expected the statement to fail: ${text}`);
}

/** A posted top-up, a voided release and a pending hold of a fresh account. */
async function sampleTransfers() {
  const holdAccount = await makeAccount({ balance: 100 });
  const hold = await placeHold(database, { accountId: holdAccount.accountId, amount: 10 });
  const released = await placeHold(database, { accountId: holdAccount.accountId, amount: 10 });
  if (hold.status !== "applied" || released.status !== "applied") throw new Error("holds not placed");
  await releaseHold(database, released.holdId);
  const rows = await rawSql<{ id: string; kind: string; status: string }>(
    "select t.id, t.kind, t.status from transfers t join accounts a on a.ledger_account_id in (t.debit_account_id, t.credit_account_id) where a.id = $1 order by t.id",
    [holdAccount.accountId],
  );
  const find = (kind: string, status: string) => rows.find((r) => r.kind === kind && r.status === status)?.id;
  return {
    posted: find("top_up", "posted"),
    voided: find("release", "voided"),
    pending: find("hold", "pending"),
  };
}

async function brokenInvariants() {
  const report = await checkInvariants(database);
  return report.invariants.filter((r) => !r.ok).map((r) => r.invariant);
}

describe("transfers are append-only", () => {
  it("refuses UPDATE and DELETE of posted and voided transfers, and TRUNCATE", async () => {
    const { posted, voided } = await sampleTransfers();
    for (const id of [posted, voided]) {
      for (const statement of [
        "update transfers set amount = amount + 1 where id = $1",
        "update transfers set status = 'voided' where id = $1",
        "update transfers set status = 'pending' where id = $1",
        "update transfers set metadata = '{\"edited\": true}' where id = $1",
        "delete from transfers where id = $1",
      ]) {
        expect(await sqlError(statement, [id]), statement).toMatchObject({ code: "23001" });
      }
    }
    expect(await sqlError("truncate transfers cascade")).toMatchObject({ code: "23001" });
  });

  it("a pending hold may only change its status, and only to posted or voided", async () => {
    const { pending } = await sampleTransfers();
    for (const statement of [
      "update transfers set amount = 1 where id = $1",
      "update transfers set status = 'posted', amount = 1 where id = $1",
      "update transfers set status = 'posted', expires_at = now() + interval '9 days' where id = $1",
      "update transfers set status = 'pending', ref = 'x' where id = $1",
      "delete from transfers where id = $1",
    ]) {
      expect(await sqlError(statement, [pending]), statement).toMatchObject({ code: "23001" });
    }
    expect(await releaseHold(database, Number(pending))).toMatchObject({ status: "applied" });
  });

  it("a second resolution transfer for a hold is refused by the unique index", async () => {
    const { accountId } = await makeAccount({ balance: 20 });
    const hold = await placeHold(database, { accountId, amount: 10 });
    if (hold.status !== "applied") throw new Error("hold not placed");
    await captureHold(database, hold.holdId);
    const error = await sqlError(
      `insert into transfers (debit_account_id, credit_account_id, amount, kind, status, pending_id)
       select debit_account_id, credit_account_id, amount, 'release', 'voided', id from transfers where id = $1`,
      [hold.holdId],
    );
    expect(error).toMatchObject({ code: "23505" });
  });

  it("a user account cannot be overdrawn, whoever updates it", async () => {
    const { ledgerAccountId } = await makeAccount({ balance: 10 });
    for (const statement of [
      "update ledger_accounts set debits_posted = debits_posted + 11 where id = $1",
      "update ledger_accounts set debits_pending = debits_pending + 11 where id = $1",
      "update ledger_accounts set credits_posted = -1 where id = $1",
    ]) {
      expect(await sqlError(statement, [ledgerAccountId]), statement).toMatchObject({ code: "23514" });
    }
  });
});

describe("ledger_check() notices damage", () => {
  it("all ok on a consistent ledger, one row per invariant", async () => {
    const report = await expectLedgerOk();
    // The ledger's own rows come first; billing and jobs append theirs (docs/LEDGER.md).
    expect(report.invariants.map((r) => r.invariant).slice(0, 7)).toEqual([
      "I1.posted",
      "I1.pending",
      "I2",
      "I3.pending",
      "I3.resolved_once",
      "I4.top_up_once",
      "I6",
    ]);
  });

  it("I1.posted and I6: a total changed without a transfer", async () => {
    const { ledgerAccountId } = await makeAccount({ balance: 10 });
    await rawSql("update ledger_accounts set credits_posted = credits_posted + 1 where id = $1", [
      ledgerAccountId,
    ]);
    expect(await brokenInvariants()).toEqual(["I1.posted", "I6"]);
    await rawSql("update ledger_accounts set credits_posted = credits_posted - 1 where id = $1", [
      ledgerAccountId,
    ]);
    expect(await brokenInvariants()).toEqual([]);
  });

  it("I1.pending and I3.pending: pending totals that are not open holds", async () => {
    const { ledgerAccountId } = await makeAccount({ balance: 10 });
    await rawSql("update ledger_accounts set debits_pending = debits_pending + 2 where id = $1", [
      ledgerAccountId,
    ]);
    expect(await brokenInvariants()).toEqual(["I1.pending", "I3.pending"]);
    await rawSql(
      "update ledger_accounts set credits_pending = credits_pending + 2 where id = ledger_system_account('revenue', $1)",
      [ledgerAccountId],
    );
    expect(await brokenInvariants()).toEqual(["I3.pending"]);
    await rawSql("update ledger_accounts set debits_pending = debits_pending - 2 where id = $1", [
      ledgerAccountId,
    ]);
    await rawSql(
      "update ledger_accounts set credits_pending = credits_pending - 2 where id = ledger_system_account('revenue', $1)",
      [ledgerAccountId],
    );
    expect(await brokenInvariants()).toEqual([]);
  });

  it("I2: an overdrawn user account (with its CHECK dropped for the test)", async () => {
    const { ledgerAccountId } = await makeAccount({ balance: 10 });
    await rawSql("alter table ledger_accounts drop constraint ledger_accounts_user_not_overdrawn_check");
    try {
      await rawSql("update ledger_accounts set debits_posted = debits_posted + 11 where id = $1", [
        ledgerAccountId,
      ]);
      expect(await brokenInvariants()).toContain("I2");
      await rawSql("update ledger_accounts set debits_posted = debits_posted - 11 where id = $1", [
        ledgerAccountId,
      ]);
    } finally {
      await rawSql(`alter table ledger_accounts add constraint ledger_accounts_user_not_overdrawn_check
        check (kind <> 'user' or debits_pending + debits_posted <= credits_posted)`);
    }
    expect(await brokenInvariants()).toEqual([]);
  });

  it("I3.resolved_once and I4.top_up_once: transfers inserted behind the functions' back", async () => {
    const { ledgerAccountId } = await makeAccount();
    const [inserted] = await rawSql<{ hold: string; top_up: string }>(
      `with hold as (
         insert into transfers (debit_account_id, credit_account_id, amount, kind, status, expires_at)
         values ($1, ledger_system_account('revenue', $1), 5, 'hold', 'voided', now()) returning id),
       top_up as (
         insert into transfers (debit_account_id, credit_account_id, amount, kind, status)
         values (ledger_system_account('stripe', $1), $1, 5, 'top_up', 'posted') returning id)
       select (select id from hold) as hold, (select id from top_up) as top_up`,
      [ledgerAccountId],
    );
    expect(await brokenInvariants()).toEqual(["I3.resolved_once", "I4.top_up_once", "I6"]);
    await rawSql("alter table transfers disable trigger transfers_append_only");
    try {
      await rawSql("delete from transfers where id in ($1, $2)", [inserted?.hold, inserted?.top_up]);
    } finally {
      await rawSql("alter table transfers enable trigger transfers_append_only");
    }
    expect(await brokenInvariants()).toEqual([]);
  });
});
