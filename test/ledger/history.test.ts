import { describe, expect, it } from "vitest";
import { listTransfers, topUp } from "../../src/ledger/index.ts";
import { captureHold, placeHold, releaseHold } from "../support/holds.ts";
import { ledgerDatabase, makeAccount } from "../support/ledger.ts";

const database = ledgerDatabase();

describe("listTransfers", () => {
  it("pages through the account's own transfers, newest first, each exactly once", async () => {
    const mine = await makeAccount({ balance: 100 });
    const theirs = await makeAccount({ balance: 100 });
    const hold = await placeHold(database, { accountId: mine.accountId, amount: 30, ref: "job:history" });
    if (hold.status !== "applied") throw new Error("hold not placed");
    await captureHold(database, hold.holdId, { amount: 12 });
    const second = await placeHold(database, { accountId: mine.accountId, amount: 5 });
    if (second.status !== "applied") throw new Error("hold not placed");
    await releaseHold(database, second.holdId);
    for (let i = 0; i < 4; i++)
      await topUp(database, { accountId: mine.accountId, amount: 1, ref: `h-${i}-${mine.accountId}` });
    // Another account's activity interleaves and must never show up.
    await placeHold(database, { accountId: theirs.accountId, amount: 1 });

    const seen: number[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await listTransfers(database, mine.accountId, { cursor, limit: 3 });
      pages.push(page.items.length);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    // seed top-up, hold, capture, hold, release, 4 top-ups
    expect(seen).toHaveLength(9);
    expect(pages).toEqual([3, 3, 3]);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);

    const all = await listTransfers(database, mine.accountId, { limit: 100 });
    expect(all.nextCursor).toBeNull();
    expect(all.items.map((t) => `${t.kind}:${t.status}:${t.direction}:${t.amount}`)).toEqual([
      "top_up:posted:credit:1",
      "top_up:posted:credit:1",
      "top_up:posted:credit:1",
      "top_up:posted:credit:1",
      "release:voided:debit:5",
      "hold:voided:debit:5",
      "capture:posted:debit:12",
      "hold:posted:debit:30",
      "top_up:posted:credit:100",
    ]);
    const capture = all.items.find((t) => t.kind === "capture");
    expect(capture?.holdId).toBe(hold.holdId);
    expect(all.items.find((t) => t.kind === "hold" && t.amount === 30)).toMatchObject({ ref: "job:history" });
    expect(all.items.every((t) => t.createdAt instanceof Date)).toBe(true);
  });

  it("an unknown account has no transfers; a malformed cursor is refused", async () => {
    expect(await listTransfers(database, crypto.randomUUID())).toEqual({ items: [], nextCursor: null });
    await expect(listTransfers(database, crypto.randomUUID(), { cursor: "1 or 1=1" })).rejects.toThrow(
      RangeError,
    );
  });
});
