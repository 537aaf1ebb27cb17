import { afterAll, describe, expect, it } from "vitest";
import { createAccount, getBalance, grantCredits, topUp } from "../../src/ledger/index.ts";
import { expectBalance, expectLedgerOk, ledgerDatabase, makeAccount, tally } from "../support/ledger.ts";

const database = ledgerDatabase();

afterAll(() => expectLedgerOk());

describe("createAccount", () => {
  it("creates an account with an empty user ledger account, once per user id", async () => {
    const userId = `user-${crypto.randomUUID()}`;
    const first = await createAccount(database, userId);
    expect(first.status).toBe("applied");
    const again = await createAccount(database, userId);
    expect(again).toEqual({ ...first, status: "already_applied" });
    expect(await getBalance(database, first.accountId)).toEqual({
      accountId: first.accountId,
      ledgerAccountId: first.ledgerAccountId,
      balance: 0,
      held: 0,
      available: 0,
    });
  });

  it("creates a new account on every call without a user id", async () => {
    const [a, b] = await Promise.all([createAccount(database), createAccount(database)]);
    expect(a?.accountId).not.toBe(b?.accountId);
  });

  it("concurrent creations for one user make one account", async () => {
    const userId = `user-${crypto.randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 8 }, () => createAccount(database, userId)));
    expect(new Set(results.map((r) => r.accountId)).size).toBe(1);
    expect(tally(results)).toEqual({ applied: 1, already_applied: 7 });
  });

  it("an unknown or malformed account has no balance", async () => {
    expect(await getBalance(database, crypto.randomUUID())).toBeUndefined();
    expect(await getBalance(database, "not-a-uuid")).toBeUndefined();
  });
});

describe.each([
  ["topUp", topUp],
  ["grantCredits", grantCredits],
] as const)("%s", (_name, credit) => {
  it("credits the account, posted at once", async () => {
    const { accountId } = await makeAccount();
    const result = await credit(database, { accountId, amount: 250, ref: crypto.randomUUID() });
    expect(result).toMatchObject({
      status: "applied",
      accountId,
      amount: 250,
      balance: 250,
      held: 0,
      available: 250,
    });
    await expectBalance(accountId, { balance: 250, held: 0, available: 250 });
  });

  it("a replay of the same ref answers already_applied with the first transfer and credits nothing", async () => {
    const { accountId } = await makeAccount();
    const ref = crypto.randomUUID();
    const first = await credit(database, { accountId, amount: 100, ref, metadata: { note: "x" } });
    const replay = await credit(database, { accountId, amount: 100, ref, metadata: { note: "x" } });
    expect(first.status).toBe("applied");
    expect(replay.status).toBe("already_applied");
    if (first.status === "rejected" || replay.status === "rejected") throw new Error("unexpected rejection");
    expect(replay.transferId).toBe(first.transferId);
    expect(replay.createdAt.toISOString()).toBe(first.createdAt.toISOString());
    await expectBalance(accountId, { balance: 100 });
  });

  it("the same ref with another amount or account is rejected ref_conflict", async () => {
    const { accountId } = await makeAccount();
    const other = await makeAccount();
    const ref = crypto.randomUUID();
    await credit(database, { accountId, amount: 100, ref });
    expect(await credit(database, { accountId, amount: 101, ref })).toMatchObject({
      status: "rejected",
      reason: "ref_conflict",
    });
    expect(await credit(database, { accountId: other.accountId, amount: 100, ref })).toMatchObject({
      status: "rejected",
      reason: "ref_conflict",
    });
    await expectBalance(accountId, { balance: 100 });
    await expectBalance(other.accountId, { balance: 0 });
  });

  it("concurrent calls with one ref credit exactly once", async () => {
    const { accountId } = await makeAccount();
    const ref = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => credit(database, { accountId, amount: 7, ref })),
    );
    expect(tally(results)).toEqual({ applied: 1, already_applied: 11 });
    await expectBalance(accountId, { balance: 7 });
  });

  it("refuses a non-positive, fractional or unsafe amount, a missing ref and an unknown account", async () => {
    const { accountId } = await makeAccount();
    for (const amount of [0, -5, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      expect(await credit(database, { accountId, amount, ref: crypto.randomUUID() })).toMatchObject({
        status: "rejected",
        reason: "invalid_amount",
      });
    }
    expect(await credit(database, { accountId, amount: 5, ref: "" })).toMatchObject({
      reason: "ref_required",
    });
    for (const unknown of [crypto.randomUUID(), "nope"]) {
      expect(
        await credit(database, { accountId: unknown, amount: 5, ref: crypto.randomUUID() }),
      ).toMatchObject({
        status: "rejected",
        reason: "account_not_found",
      });
    }
    await expectBalance(accountId, { balance: 0 });
  });
});

describe("grant replays compare the metadata; top-up replays do not", () => {
  it("a grant with the same ref and another reason is a conflict", async () => {
    const { accountId } = await makeAccount();
    const ref = crypto.randomUUID();
    await grantCredits(database, { accountId, amount: 10, ref, metadata: { reason: "a" } });
    expect(
      await grantCredits(database, { accountId, amount: 10, ref, metadata: { reason: "b" } }),
    ).toMatchObject({
      reason: "ref_conflict",
    });
  });

  it("a top-up replayed by reconciliation with other metadata is still the same top-up", async () => {
    const { accountId } = await makeAccount();
    const ref = `cs_test_${crypto.randomUUID()}`;
    await topUp(database, { accountId, amount: 10, ref, metadata: { via: "webhook" } });
    expect(
      await topUp(database, { accountId, amount: 10, ref, metadata: { via: "reconcile" } }),
    ).toMatchObject({
      status: "already_applied",
    });
    await expectBalance(accountId, { balance: 10 });
  });
});
