import { z } from "zod";
import { sqlFunction } from "../../src/db/call.ts";
import { int64, timestamp } from "../../src/db/columns.ts";
import type { TransferStatus } from "../../src/db/schema/index.ts";
import { isCreditAmount, isLedgerId, metadataOf } from "../../src/ledger/credits.ts";
import type { Applied, Balances, LedgerDatabase } from "../../src/ledger/types.ts";
import { isUuid } from "../../src/lib/encoding.ts";

/**
 * Typed doors to the hold functions themselves (place_hold, capture_hold, release_hold, expire_holds).
 * Tollgate calls them only from inside its own SQL (create_job, complete_jobs, the sweeper); the ledger
 * tests call them directly to prove each rule of a hold on its own.
 */

const DEFAULT_TTL_SECONDS = 3600;

export type HoldInput = {
  accountId: string;
  amount: number;
  /** Optional idempotency reference, e.g. `job:<id>`; a replay returns the first hold. */
  ref?: string;
  /** Seconds until expire_holds may void the hold (default 3600). */
  ttlSeconds?: number;
  metadata?: Record<string, unknown>;
};

export type HoldResult =
  | (Balances & {
      status: Applied;
      holdId: number;
      accountId: string;
      amount: number;
      holdStatus: TransferStatus;
      expiresAt: Date;
    })
  | (Balances & { status: "rejected"; reason: "insufficient_credits"; accountId: string; amount: number })
  | {
      status: "rejected";
      reason: "invalid_amount" | "invalid_ttl" | "ref_conflict" | "account_not_found";
      accountId: string;
      amount: number;
    };

/** How a hold ended: captured (posted, partly or fully) or voided by a release or its TTL. */
export type HoldResolution = {
  holdId: number;
  accountId: string;
  holdStatus: "posted" | "voided";
  resolution: "capture" | "release" | "expire";
  /** The resolution transfer (its `pending_id` is the hold). */
  resolutionId: number;
  /** What was held. */
  amount: number;
  captured: number;
  released: number;
};

export type ResolveResult =
  | (HoldResolution & { status: Applied })
  /** The hold was resolved the other way before; the fields say how. */
  | (HoldResolution & { status: "rejected"; reason: "already_resolved" })
  | { status: "rejected"; reason: "amount_exceeds_hold"; holdId: number; accountId: string; amount: number }
  | { status: "rejected"; reason: "hold_not_found" | "invalid_amount"; holdId: number };

export type ExpiredHold = { holdId: number; accountId: string; amount: number; expiresAt: Date };

const HoldRow = z.object({
  status: z.enum(["applied", "already_applied", "rejected"]),
  reason: z
    .enum(["insufficient_credits", "invalid_amount", "invalid_ttl", "ref_conflict", "account_not_found"])
    .nullable(),
  hold_id: int64.nullable(),
  account_id: z.string(),
  amount: int64,
  hold_status: z.enum(["pending", "posted", "voided"]).nullable(),
  expires_at: timestamp.nullable(),
  balance: int64.nullable(),
  held: int64.nullable(),
  available: int64.nullable(),
});

const ResolveRow = z.object({
  status: z.enum(["applied", "already_applied", "rejected"]),
  reason: z.enum(["already_resolved", "amount_exceeds_hold", "hold_not_found", "invalid_amount"]).nullable(),
  hold_id: int64,
  account_id: z.string().nullable(),
  hold_status: z.enum(["pending", "posted", "voided"]).nullable(),
  resolution: z.enum(["capture", "release", "expire"]).nullable(),
  resolution_id: int64.nullable(),
  amount: int64.nullable(),
  captured: int64.nullable(),
  released: int64.nullable(),
});

const placeHoldFn = sqlFunction(
  "place_hold",
  { accountId: "uuid", amount: "bigint", ref: "text", ttlSeconds: "integer", metadata: "jsonb" },
  HoldRow,
);
const captureHoldFn = sqlFunction(
  "capture_hold",
  { holdId: "bigint", amount: "bigint", metadata: "jsonb" },
  ResolveRow,
);
const releaseHoldFn = sqlFunction("release_hold", { holdId: "bigint", metadata: "jsonb" }, ResolveRow);
const expireHoldsFn = sqlFunction(
  "expire_holds",
  { now: "timestamptz?", limit: "integer?" },
  z.object({ hold_id: int64, account_id: z.string(), amount: int64, expires_at: timestamp }),
);

function required<T>(value: T | null, column: string): T {
  if (value === null) throw new Error(`ledger: ${column} is missing`);
  return value;
}

function balancesOf(row: z.output<typeof HoldRow>): Balances {
  return {
    balance: required(row.balance, "balance"),
    held: required(row.held, "held"),
    available: required(row.available, "available"),
  };
}

/**
 * Holds `amount` credits against the account's available balance: a pending user → revenue transfer.
 * Not enough available credits is an answer (`insufficient_credits`, nothing stored), never an error.
 */
export async function placeHold(database: LedgerDatabase, input: HoldInput): Promise<HoldResult> {
  const { accountId, amount } = input;
  const ttlSeconds = input.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!isCreditAmount(amount)) return { status: "rejected", reason: "invalid_amount", accountId, amount };
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 2 ** 31 - 1) {
    return { status: "rejected", reason: "invalid_ttl", accountId, amount };
  }
  if (!isUuid(accountId)) return { status: "rejected", reason: "account_not_found", accountId, amount };
  const row = await placeHoldFn.one(database, {
    accountId,
    amount,
    ref: input.ref ?? null,
    ttlSeconds,
    metadata: metadataOf(input.metadata),
  });
  if (row.status === "rejected") {
    if (row.reason === "insufficient_credits") {
      return { status: "rejected", reason: row.reason, accountId, amount, ...balancesOf(row) };
    }
    return { status: "rejected", reason: row.reason ?? "invalid_amount", accountId, amount };
  }
  return {
    status: row.status,
    holdId: required(row.hold_id, "hold_id"),
    accountId: row.account_id,
    amount: row.amount,
    holdStatus: row.hold_status ?? "pending",
    expiresAt: required(row.expires_at, "expires_at"),
    ...balancesOf(row),
  };
}

function toResolveResult(row: z.output<typeof ResolveRow>, holdId: number): ResolveResult {
  if (row.reason === "hold_not_found" || row.reason === "invalid_amount") {
    return { status: "rejected", reason: row.reason, holdId };
  }
  const accountId = row.account_id ?? "";
  if (row.reason === "amount_exceeds_hold") {
    return {
      status: "rejected",
      reason: row.reason,
      holdId,
      accountId,
      amount: required(row.amount, "amount"),
    };
  }
  const resolution: HoldResolution = {
    holdId,
    accountId,
    holdStatus: row.hold_status === "posted" ? "posted" : "voided",
    resolution: row.resolution ?? "release",
    resolutionId: required(row.resolution_id, "resolution_id"),
    amount: required(row.amount, "amount"),
    captured: required(row.captured, "captured"),
    released: required(row.released, "released"),
  };
  if (row.status === "rejected") return { ...resolution, status: "rejected", reason: "already_resolved" };
  return { ...resolution, status: row.status };
}

/**
 * Captures a hold: posts `amount` (default: all of it; at most the hold) and releases the rest. A hold
 * resolves once: capturing again answers already_applied with the first capture's amounts; capturing a
 * released or expired hold is rejected `already_resolved`.
 */
export async function captureHold(
  database: LedgerDatabase,
  holdId: number,
  options: { amount?: number; metadata?: Record<string, unknown> } = {},
): Promise<ResolveResult> {
  if (!isLedgerId(holdId)) return { status: "rejected", reason: "hold_not_found", holdId };
  if (options.amount !== undefined && !isCreditAmount(options.amount)) {
    return { status: "rejected", reason: "invalid_amount", holdId };
  }
  const row = await captureHoldFn.one(database, {
    holdId,
    amount: options.amount ?? null,
    metadata: metadataOf(options.metadata),
  });
  return toResolveResult(row, holdId);
}

/** Releases a hold: voids it, so all of it is available again. Once, like every resolution. */
export async function releaseHold(
  database: LedgerDatabase,
  holdId: number,
  options: { metadata?: Record<string, unknown> } = {},
): Promise<ResolveResult> {
  if (!isLedgerId(holdId)) return { status: "rejected", reason: "hold_not_found", holdId };
  const row = await releaseHoldFn.one(database, { holdId, metadata: metadataOf(options.metadata) });
  return toResolveResult(row, holdId);
}

/**
 * Voids up to `limit` holds whose TTL passed by `now`, returning the ones it voided. Holds another
 * transaction is resolving at that moment are skipped, not waited for.
 */
export async function expireHolds(
  database: LedgerDatabase,
  options: { now?: Date; limit?: number } = {},
): Promise<ExpiredHold[]> {
  const rows = await expireHoldsFn(database, { now: options.now, limit: options.limit ?? 100 });
  return rows.map((row) => ({
    holdId: row.hold_id,
    accountId: row.account_id,
    amount: row.amount,
    expiresAt: row.expires_at,
  }));
}
