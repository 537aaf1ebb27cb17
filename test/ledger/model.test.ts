import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createAccount, grantCredits, topUp } from "../../src/ledger/index.ts";
import { captureHold, expireHolds, placeHold, type ResolveResult, releaseHold } from "../support/holds.ts";
import { ledgerDatabase } from "../support/ledger.ts";
import { LedgerModel, type ModelHold, type Random, seededRandom } from "../support/ledger-model.ts";

/**
 * Thousands of random operations — top-ups with repeated and conflicting refs, grants, holds,
 * captures, partial captures, releases, expiry, duplicates and concurrent bursts — checked against an
 * in-memory model, with ledger_check() all ok and every balance equal to the model after every step.
 *
 * A failure prints its seed; LEDGER_MODEL_SEED=<seed> replays it exactly (bursts race for real, but
 * every interleaving of a burst has the same effect). LEDGER_MODEL_STEPS sets the length.
 */
const settings = env as unknown as Record<string, string | undefined>;
const SEED = Number(settings.LEDGER_MODEL_SEED || Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(settings.LEDGER_MODEL_STEPS || 1500);
const ACCOUNTS = 5;
const database = ledgerDatabase();

type Snapshot = {
  check: { invariant: string; ok: boolean; detail: string }[];
  balances: { id: string; balance: string; held: string }[];
};

/** ledger_check() and every account's balance in one statement. */
async function snapshot(accountIds: string[]): Promise<Snapshot> {
  const [row] = (await database.sql`
    select json_build_object(
      'check', (select json_agg(c) from ledger_check() c),
      'balances', (select json_agg(json_build_object('id', a.id, 'balance', b.balance::text, 'held', b.held::text))
        from accounts a cross join lateral ledger_balances(a.ledger_account_id) b where a.id = any(${accountIds}::uuid[]))
    ) as snapshot`) as { snapshot: Snapshot }[];
  if (!row) throw new Error("no snapshot");
  return row.snapshot;
}

async function expectAgrees(model: LedgerModel) {
  const { check, balances } = await snapshot(model.accounts.map((a) => a.id));
  expect(check.filter((c) => !c.ok)).toEqual([]);
  const actual = Object.fromEntries(
    balances.map((b) => [b.id, { balance: Number(b.balance), held: Number(b.held) }]),
  );
  const expected = Object.fromEntries(
    model.accounts.map((a) => [a.id, { balance: a.balance, held: a.held }]),
  );
  expect(actual).toEqual(expected);
}

class Run {
  private step = 0;
  private refs = 0;
  /** How often each kind of outcome came up, so a run that never reaches a branch is noticed. */
  readonly seen: Record<string, number> = {};
  readonly model: LedgerModel;
  readonly random: Random;
  constructor(model: LedgerModel, random: Random) {
    this.model = model;
    this.random = random;
  }

  private saw(outcome: string) {
    this.seen[outcome] = (this.seen[outcome] ?? 0) + 1;
  }

  private newRef(prefix: string) {
    this.refs += 1;
    return `${prefix}-${SEED}-${this.refs}`;
  }

  private pickHold(preferPending: number): ModelHold | undefined {
    const pending = this.model.pending();
    return this.random.chance(preferPending) && pending.length > 0
      ? this.random.pick(pending)
      : this.random.pick(this.model.holds);
  }

  /** One sequential operation, whose answer the model predicts exactly. */
  async single() {
    const { model, random } = this;
    const roll = random.next();
    const account = random.int(0, ACCOUNTS - 1);
    const accountId = model.account(account).id;
    if (roll < 0.25) {
      const kind = random.chance(0.7) ? "top_up" : "grant";
      const credit = kind === "top_up" ? topUp : grantCredits;
      const known = [...model.credits.entries()].filter(([key]) => key.startsWith(`${kind}:`));
      const old = random.chance(0.3) ? random.pick(known) : undefined;
      if (old) {
        const [key, was] = old;
        const ref = key.slice(kind.length + 1);
        const conflict = random.chance(0.3);
        const result = await credit(database, {
          accountId: model.account(was.account).id,
          amount: was.amount + (conflict ? 1 : 0),
          ref,
          metadata: { reason: "model" },
        });
        expect(result).toMatchObject(
          conflict ? { status: "rejected", reason: "ref_conflict" } : { status: "already_applied" },
        );
        this.saw(conflict ? "credit ref conflict" : "credit replay");
        return;
      }
      const ref = this.newRef(kind);
      const amount = random.int(1, 80);
      const result = await credit(database, { accountId, amount, ref, metadata: { reason: "model" } });
      model.credit(kind, ref, account, amount);
      expect(result).toMatchObject({ status: "applied", balance: model.account(account).balance });
      this.saw(kind);
    } else if (roll < 0.55) {
      const replay = random.chance(0.15) ? random.pick([...model.holdsByRef.values()]) : undefined;
      if (replay) {
        const result = await placeHold(database, {
          accountId: model.account(replay.account).id,
          amount: replay.amount,
          ref: replay.ref,
        });
        expect(result).toMatchObject({ status: "already_applied", holdId: replay.id });
        this.saw("hold replay");
        return;
      }
      const amount = random.int(1, 60);
      const short = random.chance(0.5);
      const ref = random.chance(0.6) ? this.newRef("job") : undefined;
      const result = await placeHold(database, { accountId, amount, ref, ttlSeconds: short ? 60 : 86_400 });
      if (model.available(account) >= amount) {
        expect(result.status).toBe("applied");
        if (result.status === "applied") model.addHold({ id: result.holdId, account, amount, short, ref });
        this.saw("hold");
      } else {
        expect(result).toMatchObject({ status: "rejected", reason: "insufficient_credits" });
        this.saw("hold insufficient");
      }
    } else if (roll < 0.75) {
      const hold = this.pickHold(0.8);
      if (!hold) return;
      const style = random.next();
      const amount =
        style < 0.4 ? undefined : style < 0.9 ? random.int(1, hold.amount) : hold.amount + random.int(1, 9);
      const result = await captureHold(database, hold.id, { amount });
      if (hold.state !== "pending") {
        expect(result).toMatchObject(LedgerModel.replayOutcome(hold, "capture"));
        this.saw(`capture of a ${hold.state}d hold`);
      } else if (amount !== undefined && amount > hold.amount) {
        expect(result).toMatchObject({ status: "rejected", reason: "amount_exceeds_hold" });
        this.saw("capture above hold");
      } else {
        model.resolve(hold, "capture", amount ?? hold.amount);
        expect(result).toMatchObject({ status: "applied", captured: hold.captured });
        this.saw(hold.captured < hold.amount ? "partial capture" : "full capture");
      }
    } else if (roll < 0.92) {
      const hold = this.pickHold(0.8);
      if (!hold) return;
      const result = await releaseHold(database, hold.id);
      if (hold.state !== "pending") {
        expect(result).toMatchObject(LedgerModel.replayOutcome(hold, "release"));
        this.saw(`release of a ${hold.state}d hold`);
      } else {
        model.resolve(hold, "release");
        expect(result).toMatchObject({ status: "applied" });
        this.saw("release");
      }
    } else {
      const due = model.pending().filter((h) => h.short);
      const expired = await expireHolds(database, { now: new Date(Date.now() + 3_600_000), limit: 10_000 });
      expect(expired.map((h) => h.holdId).sort((a, b) => a - b)).toEqual(
        due.map((h) => h.id).sort((a, b) => a - b),
      );
      for (const hold of due) model.resolve(hold, "expire");
      this.saw(due.length > 0 ? "expiry" : "empty sweep");
    }
  }

  /**
   * A burst of concurrent calls. The database picks the order; the burst is built so that every order
   * has the same effect (who wins a race may differ, never what the ledger ends up holding), which
   * keeps a seed's replay exact: duplicate refs, equal holds competing for one account's money, and
   * duplicate resolutions of one hold (two captures of one amount, or releases racing the sweep).
   */
  async burst() {
    const { model, random } = this;
    const expiring = random.chance(0.3);
    const due = model.pending().filter((h) => h.short);
    const holdAccount = random.int(0, ACCOUNTS - 1);
    // The sweep would free the hold account's money mid-burst, so it competes only when nothing is due.
    const holdsAllowed = !expiring || !due.some((h) => h.account === holdAccount);
    const creditAccount = (holdAccount + random.int(1, ACCOUNTS - 1)) % ACCOUNTS;
    const creditId = model.account(creditAccount).id;
    const holdId = model.account(holdAccount).id;
    const topUpRef = this.newRef("burst-top-up");
    const grantRef = this.newRef("burst-grant");
    const topUpAmount = random.int(1, 40);
    const grantAmount = random.int(1, 20);
    const holdAmount = random.int(1, 40);
    const holdCount = holdsAllowed ? random.int(2, 6) : 0;
    const contested = model
      .pending()
      .filter((h) => h.account !== holdAccount && random.chance(0.5))
      .slice(0, 4)
      .map((hold) => {
        const captureAmount = random.int(1, hold.amount);
        const mode: "capture" | "release" =
          expiring && hold.short ? "release" : random.chance(0.5) ? "capture" : "release";
        return { hold, mode, captureAmount };
      });
    const availableBefore = model.available(holdAccount);

    const [topUps, grants, holds, resolutions, expired] = await Promise.all([
      Promise.all(
        [1, 2, 3].map(() => topUp(database, { accountId: creditId, amount: topUpAmount, ref: topUpRef })),
      ),
      Promise.all(
        [1, 2].map(() =>
          grantCredits(database, {
            accountId: creditId,
            amount: grantAmount,
            ref: grantRef,
            metadata: { reason: "model" },
          }),
        ),
      ),
      Promise.all(
        Array.from({ length: holdCount }, () =>
          placeHold(database, { accountId: holdId, amount: holdAmount, ttlSeconds: 86_400 }),
        ),
      ),
      Promise.all(
        contested.map(({ hold, mode, captureAmount }) =>
          Promise.all(
            mode === "capture"
              ? [1, 2].map(() => captureHold(database, hold.id, { amount: captureAmount }))
              : [1, 2].map(() => releaseHold(database, hold.id)),
          ),
        ),
      ),
      expiring
        ? expireHolds(database, { now: new Date(Date.now() + 3_600_000), limit: 10_000 })
        : Promise.resolve([]),
    ]);
    this.saw("burst");

    expect(topUps.map((c) => c.status).sort()).toEqual(["already_applied", "already_applied", "applied"]);
    expect(grants.map((c) => c.status).sort()).toEqual(["already_applied", "applied"]);
    model.credit("top_up", topUpRef, creditAccount, topUpAmount);
    model.credit("grant", grantRef, creditAccount, grantAmount);

    // Equal holds against one account: however they interleave, as many fit as the money allows.
    const fits = Math.min(holdCount, Math.floor(availableBefore / holdAmount));
    expect(holds.filter((h) => h.status === "applied")).toHaveLength(fits);
    for (const h of holds) {
      if (h.status === "applied")
        model.addHold({ id: h.holdId, account: holdAccount, amount: holdAmount, short: false });
      else expect(h).toMatchObject({ reason: "insufficient_credits" });
    }
    if (fits < holdCount) this.saw("burst hold insufficient");

    const expiredIds = new Set(expired.map((h) => h.holdId));
    for (const [i, { hold, mode, captureAmount }] of contested.entries()) {
      const pair = resolutions[i] as ResolveResult[];
      const won = pair.filter((r) => r.status === "applied").length + (expiredIds.has(hold.id) ? 1 : 0);
      expect(won, `hold ${hold.id} resolved once`).toBe(1);
      for (const r of pair) expect(["applied", "already_applied"]).toContain(r.status);
      if (mode === "capture") model.resolve(hold, "capture", captureAmount);
      else model.resolve(hold, expiredIds.has(hold.id) ? "expire" : "release");
      this.saw(`${mode} race`);
    }
    for (const id of expiredIds) {
      const hold = model.holdsById.get(id);
      expect(hold && due.includes(hold), `expired hold ${id} was due`).toBe(true);
      if (hold && hold.state === "pending") model.resolve(hold, "expire");
    }
    // Every due hold nobody else was resolving must have been swept.
    if (expiring) for (const hold of due) expect(hold.state, `due hold ${hold.id}`).not.toBe("pending");
  }

  async run(steps: number) {
    for (this.step = 1; this.step <= steps; this.step++) {
      if (this.random.chance(0.06)) await this.burst();
      else await this.single();
      await expectAgrees(this.model);
    }
  }

  get position() {
    return this.step;
  }
}

describe("the ledger against an in-memory model", () => {
  it(`${STEPS} random steps (seed ${SEED})`, { timeout: 240_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++)
      ids.push((await createAccount(database, `model-${SEED}-${i}`)).accountId);
    const run = new Run(new LedgerModel(ids), seededRandom(SEED));
    try {
      await run.run(STEPS);
      if (STEPS >= 1000) {
        for (const outcome of [
          "top_up",
          "grant",
          "credit replay",
          "credit ref conflict",
          "hold",
          "hold replay",
          "hold insufficient",
          "full capture",
          "partial capture",
          "capture above hold",
          "release",
          "capture of a released hold",
          "release of a captured hold",
          "expiry",
          "burst",
          "burst hold insufficient",
          "capture race",
          "release race",
        ]) {
          expect(run.seen[outcome] ?? 0, `outcome "${outcome}" reached`).toBeGreaterThan(0);
        }
      }
    } catch (error) {
      const replay = `LEDGER_MODEL_SEED=${SEED} LEDGER_MODEL_STEPS=${run.position}`;
      console.error(`ledger model failed at step ${run.position}; replay with ${replay}`);
      throw new Error(`ledger model failed at step ${run.position} (replay: ${replay}): ${String(error)}`, {
        cause: error,
      });
    }
  });
});
