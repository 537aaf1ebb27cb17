/**
 * The in-memory model the randomized ledger test (test/ledger/model.test.ts) checks Postgres against:
 * what every account's balance and every hold's state must be after each step, and what each call
 * must answer. Deliberately naive — plain arrays and maps — so it is obviously right.
 */

export type HoldState = "pending" | "capture" | "release" | "expire";

export type ModelHold = {
  id: number;
  account: number;
  amount: number;
  /** Short holds are due at the next sweep; long ones never during a run. */
  short: boolean;
  ref?: string;
  state: HoldState;
  captured: number;
};

export type ModelAccount = { id: string; balance: number; held: number };

export class LedgerModel {
  readonly accounts: ModelAccount[];
  readonly holds: ModelHold[] = [];
  readonly holdsById = new Map<number, ModelHold>();
  readonly holdsByRef = new Map<string, ModelHold>();
  /** `${kind}:${ref}` → what that ref credited. */
  readonly credits = new Map<string, { account: number; amount: number }>();

  constructor(accountIds: string[]) {
    this.accounts = accountIds.map((id) => ({ id, balance: 0, held: 0 }));
  }

  available(account: number) {
    const a = this.account(account);
    return a.balance - a.held;
  }

  account(index: number): ModelAccount {
    const account = this.accounts[index];
    if (!account) throw new Error(`model: no account ${index}`);
    return account;
  }

  credit(kind: "top_up" | "grant", ref: string, account: number, amount: number) {
    this.credits.set(`${kind}:${ref}`, { account, amount });
    this.account(account).balance += amount;
  }

  addHold(hold: Omit<ModelHold, "state" | "captured">) {
    const modelHold: ModelHold = { ...hold, state: "pending", captured: 0 };
    this.holds.push(modelHold);
    this.holdsById.set(hold.id, modelHold);
    if (hold.ref) this.holdsByRef.set(hold.ref, modelHold);
    this.account(hold.account).held += hold.amount;
    return modelHold;
  }

  resolve(hold: ModelHold, state: Exclude<HoldState, "pending">, captured = 0) {
    if (hold.state !== "pending") throw new Error(`model: hold ${hold.id} resolved twice`);
    const account = this.account(hold.account);
    account.held -= hold.amount;
    account.balance -= captured;
    hold.state = state;
    hold.captured = captured;
  }

  pending() {
    return this.holds.filter((h) => h.state === "pending");
  }

  /** What a resolution call on an already resolved hold must answer. */
  static replayOutcome(hold: ModelHold, asked: "capture" | "release") {
    const same = (asked === "capture") === (hold.state === "capture");
    return same ? { status: "already_applied" } : { status: "rejected", reason: "already_resolved" };
  }
}

/** mulberry32: tiny, fast, and the same sequence for the same seed on every platform. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    chance: (p: number) => next() < p,
    pick<T>(items: readonly T[]): T | undefined {
      return items.length === 0 ? undefined : items[Math.floor(next() * items.length)];
    },
  };
}

export type Random = ReturnType<typeof seededRandom>;
