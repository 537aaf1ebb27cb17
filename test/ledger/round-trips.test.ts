import { describe, expect, it } from "vitest";
import {
  checkInvariants,
  createAccount,
  getBalance,
  grantCredits,
  listTransfers,
  topUp,
} from "../../src/ledger/index.ts";
import { captureHold, expireHolds, placeHold, releaseHold } from "../support/holds.ts";
import { countStatements, ledgerDatabase } from "../support/ledger.ts";

/**
 * docs/ARCHITECTURE.md, One statement per operation: each ledger operation is one statement, one HTTPS round
 * trip from a Worker. The local Neon server counts the statements it runs per database; this file's database
 * serves only it.
 */
const database = ledgerDatabase();

async function expectOneStatement<T>(fn: () => Promise<T>): Promise<T> {
  const { result, statements } = await countStatements(fn);
  expect(statements).toBe(1);
  return result;
}

describe("one statement per ledger operation", () => {
  it("createAccount, topUp, grantCredits, getBalance, listTransfers, checkInvariants", async () => {
    const userId = `user-${crypto.randomUUID()}`;
    const account = await expectOneStatement(() => createAccount(database, userId));
    await expectOneStatement(() => createAccount(database, userId));
    const ref = crypto.randomUUID();
    await expectOneStatement(() => topUp(database, { accountId: account.accountId, amount: 100, ref }));
    await expectOneStatement(() => topUp(database, { accountId: account.accountId, amount: 100, ref }));
    await expectOneStatement(() => grantCredits(database, { accountId: account.accountId, amount: 5, ref }));
    await expectOneStatement(() => getBalance(database, account.accountId));
    await expectOneStatement(() => listTransfers(database, account.accountId, { limit: 1 }));
    await expectOneStatement(() => checkInvariants(database));
  });

  it("placeHold (applied and insufficient), captureHold, releaseHold, expireHolds, and their replays", async () => {
    const { accountId } = await createAccount(database);
    await topUp(database, { accountId, amount: 50, ref: crypto.randomUUID() });
    const hold = await expectOneStatement(() =>
      placeHold(database, { accountId, amount: 20, ref: "job:rt" }),
    );
    await expectOneStatement(() => placeHold(database, { accountId, amount: 20, ref: "job:rt" }));
    expect(await expectOneStatement(() => placeHold(database, { accountId, amount: 999 }))).toMatchObject({
      reason: "insufficient_credits",
    });
    const other = await placeHold(database, { accountId, amount: 10, ttlSeconds: 1 });
    if (hold.status !== "applied" || other.status !== "applied") throw new Error("holds not placed");
    await expectOneStatement(() => captureHold(database, hold.holdId, { amount: 5 }));
    await expectOneStatement(() => captureHold(database, hold.holdId));
    await expectOneStatement(() => releaseHold(database, hold.holdId));
    await expectOneStatement(() => expireHolds(database, { now: new Date(Date.now() + 60_000) }));
    await expectOneStatement(() => releaseHold(database, other.holdId));
  });

  it("answers that need no database cost no statement", async () => {
    const { statements } = await countStatements(async () => {
      await topUp(database, { accountId: "not-a-uuid", amount: 1, ref: "r" });
      await placeHold(database, { accountId: crypto.randomUUID(), amount: 0 });
      await captureHold(database, -1);
    });
    expect(statements).toBe(0);
  });
});
