import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../src/db/client.ts";
import { grantCredits } from "../../src/ledger/index.ts";
import { bearer, createKey, session, signUp, type TestUser } from "../support/auth.ts";
import { placeHold } from "../support/holds.ts";
import { call, expectProblem } from "../support/http.ts";

const ledger = () => createDatabase(env);

type Page = {
  data: { id: number; kind: string; direction: string; amount: number }[];
  next_cursor: string | null;
};

let alice: TestUser;
let bob: TestUser;
let aliceKey: string;

beforeAll(async () => {
  [alice, bob] = await Promise.all([signUp(), signUp()]);
  aliceKey = (await createKey(alice)).secret;
  for (const [i, amount] of [100, 200, 300].entries()) {
    const result = await grantCredits(ledger(), {
      accountId: alice.accountId,
      amount,
      ref: `test-grant-${i}`,
    });
    expect(result.status).toBe("applied");
  }
  await grantCredits(ledger(), { accountId: bob.accountId, amount: 7, ref: "bob-grant" });
  const hold = await placeHold(ledger(), { accountId: alice.accountId, amount: 50 });
  expect(hold.status).toBe("applied");
});

describe("GET /api/me", () => {
  it("answers the caller's account and credits, by session and by key alike", async () => {
    const expected = { account_id: alice.accountId, balance: 600, held: 50, available: 550 };
    const bySession = await call("/api/me", { headers: session(alice) });
    expect(await bySession.json()).toEqual({ ...expected, authenticated_via: "session" });
    const byKey = await call("/api/me", { headers: bearer(aliceKey) });
    expect(await byKey.json()).toEqual({ ...expected, authenticated_via: "key" });
    expect(byKey.headers.get("cache-control")).toBe("no-store");
  });

  it("a new account starts at zero", async () => {
    const user = await signUp();
    expect(await (await call("/api/me", { headers: session(user) })).json()).toMatchObject({
      balance: 0,
      held: 0,
      available: 0,
    });
  });
});

describe("GET /api/billing/ledger", () => {
  it("lists the caller's transfers newest first, one page at a time", async () => {
    const first = (await (
      await call("/api/billing/ledger?limit=2", { headers: bearer(aliceKey) })
    ).json()) as Page;
    expect(first.data.map((t) => [t.kind, t.direction, t.amount])).toEqual([
      ["hold", "debit", 50],
      ["grant", "credit", 300],
    ]);
    expect(first.next_cursor).toEqual(expect.any(String));

    const second = (await (
      await call(`/api/billing/ledger?limit=2&cursor=${first.next_cursor}`, { headers: session(alice) })
    ).json()) as Page;
    expect(second.data.map((t) => t.amount)).toEqual([200, 100]);
    expect(second.next_cursor).toBeNull();
  });

  it("never shows another account's transfers", async () => {
    const page = (await (await call("/api/billing/ledger", { headers: session(bob) })).json()) as Page;
    expect(page.data.map((t) => t.amount)).toEqual([7]);
  });

  it.each(["abc", "-1", "0", "1e3", "99999999999999999999"])(
    "refuses the cursor %j with 400",
    async (cursor) => {
      await expectProblem(
        await call(`/api/billing/ledger?cursor=${encodeURIComponent(cursor)}`, { headers: session(alice) }),
        400,
        "validation_failed",
      );
    },
  );

  it.each(["0", "101", "x"])("refuses limit=%s with 400", async (limit) => {
    await expectProblem(
      await call(`/api/billing/ledger?limit=${limit}`, { headers: session(alice) }),
      400,
      "validation_failed",
    );
  });
});
