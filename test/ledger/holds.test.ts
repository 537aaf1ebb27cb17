import { afterAll, describe, expect, it } from "vitest";
import { captureHold, expireHolds, placeHold, releaseHold } from "../support/holds.ts";
import { expectBalance, expectLedgerOk, ledgerDatabase, makeAccount, rawSql } from "../support/ledger.ts";

const database = ledgerDatabase();

afterAll(() => expectLedgerOk());

async function heldAccount(balance: number, hold: number) {
  const { accountId } = await makeAccount({ balance });
  const placed = await placeHold(database, { accountId, amount: hold, ref: `job:${crypto.randomUUID()}` });
  if (placed.status !== "applied") throw new Error(`hold not placed: ${JSON.stringify(placed)}`);
  return { accountId, holdId: placed.holdId };
}

describe("placeHold", () => {
  it("holds credits against the available balance, pending", async () => {
    const { accountId } = await makeAccount({ balance: 100 });
    const result = await placeHold(database, { accountId, amount: 30, ttlSeconds: 120 });
    expect(result).toMatchObject({
      status: "applied",
      holdStatus: "pending",
      balance: 100,
      held: 30,
      available: 70,
    });
    if (result.status !== "applied") return;
    const ttl = result.expiresAt.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(121_000);
  });

  it("insufficient available credits is a clean rejection that stores nothing", async () => {
    const { accountId } = await makeAccount({ balance: 50 });
    await placeHold(database, { accountId, amount: 40 });
    const ref = `job:${crypto.randomUUID()}`;
    expect(await placeHold(database, { accountId, amount: 11, ref })).toEqual({
      status: "rejected",
      reason: "insufficient_credits",
      accountId,
      amount: 11,
      balance: 50,
      held: 40,
      available: 10,
    });
    // Nothing was stored under the ref, so the same request succeeds once there is money.
    expect(
      await placeHold(database, { accountId, amount: 10, ref: `job:${crypto.randomUUID()}` }),
    ).toMatchObject({
      status: "applied",
      available: 0,
    });
    await expectBalance(accountId, { balance: 50, held: 50, available: 0 });
  });

  it("a replay with the same ref returns the first hold; another amount is a ref_conflict", async () => {
    const { accountId } = await makeAccount({ balance: 100 });
    const ref = `job:${crypto.randomUUID()}`;
    const first = await placeHold(database, { accountId, amount: 60, ref });
    const replay = await placeHold(database, { accountId, amount: 60, ref });
    expect(replay).toMatchObject({ status: "already_applied", held: 60 });
    if (first.status !== "applied" || replay.status !== "already_applied") throw new Error("unexpected");
    expect(replay.holdId).toBe(first.holdId);
    expect(await placeHold(database, { accountId, amount: 61, ref })).toMatchObject({
      reason: "ref_conflict",
    });
    // A replay after the hold resolved still answers with that hold, never a second one.
    await releaseHold(database, first.holdId);
    expect(await placeHold(database, { accountId, amount: 60, ref })).toMatchObject({
      status: "already_applied",
      holdId: first.holdId,
      holdStatus: "voided",
    });
    await expectBalance(accountId, { held: 0, available: 100 });
  });

  it("refuses bad amounts, TTLs and accounts", async () => {
    const { accountId } = await makeAccount({ balance: 10 });
    expect(await placeHold(database, { accountId, amount: 0 })).toMatchObject({ reason: "invalid_amount" });
    expect(await placeHold(database, { accountId, amount: 1, ttlSeconds: 0 })).toMatchObject({
      reason: "invalid_ttl",
    });
    expect(await placeHold(database, { accountId: crypto.randomUUID(), amount: 1 })).toMatchObject({
      reason: "account_not_found",
    });
  });
});

describe("captureHold", () => {
  it("captures the whole hold by default", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    expect(await captureHold(database, holdId)).toMatchObject({
      status: "applied",
      accountId,
      holdStatus: "posted",
      resolution: "capture",
      amount: 40,
      captured: 40,
      released: 0,
    });
    await expectBalance(accountId, { balance: 60, held: 0, available: 60 });
  });

  it("a partial capture posts the actual cost and releases the rest", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    expect(await captureHold(database, holdId, { amount: 15 })).toMatchObject({ captured: 15, released: 25 });
    await expectBalance(accountId, { balance: 85, held: 0, available: 85 });
  });

  it("capturing again answers already_applied with the first capture's amounts", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    const first = await captureHold(database, holdId, { amount: 15 });
    const again = await captureHold(database, holdId, { amount: 30 });
    expect(again).toEqual({ ...first, status: "already_applied" });
    await expectBalance(accountId, { balance: 85, held: 0 });
  });

  it("more than the hold is rejected and leaves it pending", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    expect(await captureHold(database, holdId, { amount: 41 })).toEqual({
      status: "rejected",
      reason: "amount_exceeds_hold",
      holdId,
      accountId,
      amount: 40,
    });
    await expectBalance(accountId, { held: 40 });
    expect(await captureHold(database, holdId, { amount: 0 })).toMatchObject({ reason: "invalid_amount" });
    expect(await captureHold(database, holdId, { amount: 40 })).toMatchObject({ status: "applied" });
  });

  it("capturing a released hold is rejected already_resolved", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    await releaseHold(database, holdId);
    expect(await captureHold(database, holdId)).toMatchObject({
      status: "rejected",
      reason: "already_resolved",
      resolution: "release",
      captured: 0,
    });
    await expectBalance(accountId, { balance: 100, held: 0 });
  });

  it("an unknown hold, or a transfer that is not a hold, is hold_not_found", async () => {
    const { accountId } = await makeAccount({ balance: 5 });
    const [topUpRow] = await rawSql<{ id: string }>(
      "select t.id from transfers t join accounts a on a.ledger_account_id = t.credit_account_id where a.id = $1",
      [accountId],
    );
    for (const holdId of [Number(topUpRow?.id), 987_654_321]) {
      expect(await captureHold(database, holdId)).toEqual({
        status: "rejected",
        reason: "hold_not_found",
        holdId,
      });
      expect(await releaseHold(database, holdId)).toEqual({
        status: "rejected",
        reason: "hold_not_found",
        holdId,
      });
    }
  });
});

describe("releaseHold", () => {
  it("voids the hold; all of it is available again, once", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    const first = await releaseHold(database, holdId);
    expect(first).toMatchObject({
      status: "applied",
      holdStatus: "voided",
      resolution: "release",
      released: 40,
    });
    expect(await releaseHold(database, holdId)).toEqual({ ...first, status: "already_applied" });
    await expectBalance(accountId, { balance: 100, held: 0, available: 100 });
  });

  it("releasing a captured hold is rejected already_resolved", async () => {
    const { accountId, holdId } = await heldAccount(100, 40);
    await captureHold(database, holdId, { amount: 10 });
    expect(await releaseHold(database, holdId)).toMatchObject({
      status: "rejected",
      reason: "already_resolved",
      resolution: "capture",
      captured: 10,
    });
    await expectBalance(accountId, { balance: 90, held: 0 });
  });
});

describe("expireHolds", () => {
  it("voids holds past their TTL, oldest first, up to the limit; a later release replays", async () => {
    const { accountId } = await makeAccount({ balance: 100 });
    const holds: number[] = [];
    for (const amount of [5, 6, 7]) {
      const placed = await placeHold(database, { accountId, amount, ttlSeconds: 5 });
      if (placed.status !== "applied") throw new Error("hold not placed");
      holds.push(placed.holdId);
    }
    const keeps = await placeHold(database, { accountId, amount: 8, ttlSeconds: 86_400 });
    // Other tests' holds in this database live for minutes at least; only these are due 10 s from now.
    const soon = new Date(Date.now() + 10_000);
    expect(await expireHolds(database, { now: new Date(), limit: 100 })).toEqual([]);
    const firstBatch = await expireHolds(database, { now: soon, limit: 2 });
    expect(firstBatch.map((h) => h.holdId)).toEqual(holds.slice(0, 2));
    expect(firstBatch[0]).toMatchObject({ accountId, amount: 5 });
    const rest = await expireHolds(database, { now: soon, limit: 100 });
    expect(rest.map((h) => h.holdId)).toEqual(holds.slice(2));
    expect(await expireHolds(database, { now: soon })).toEqual([]);
    await expectBalance(accountId, { balance: 100, held: 8, available: 92 });
    expect(await releaseHold(database, holds[0] ?? 0)).toMatchObject({
      status: "already_applied",
      resolution: "expire",
    });
    expect(await captureHold(database, holds[1] ?? 0)).toMatchObject({
      reason: "already_resolved",
      resolution: "expire",
    });
    expect(keeps).toMatchObject({ status: "applied" });
  });
});

describe("the SQL functions guard their own inputs (callers other than src/ledger)", () => {
  it("answers rejected rows for bad amounts, refs and TTLs instead of raising", async () => {
    const { accountId } = await makeAccount({ balance: 10 });
    const rows = await rawSql<{ status: string; reason: string }>(
      `select 'top_up' as fn, status, reason from top_up($1, 0, 'r1')
       union all select 'grant', status, reason from grant_credits($1, 5, null)
       union all select 'hold', status, reason from place_hold($1, -1)
       union all select 'ttl', status, reason from place_hold($1, 1, null, 0)
       union all select 'capture', status, reason from capture_hold(1, 0)`,
      [accountId],
    );
    expect(rows.map((r) => `${r.status}:${r.reason}`)).toEqual([
      "rejected:invalid_amount",
      "rejected:ref_required",
      "rejected:invalid_amount",
      "rejected:invalid_ttl",
      "rejected:invalid_amount",
    ]);
  });
});
