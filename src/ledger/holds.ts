import type { TransferStatus } from "../db/schema/index.ts";
import { isAccountId, isCreditAmount, isLedgerId, metadataJson, toInteger, toTimestamp } from "./credits.ts";
import type {
  ExpiredHold,
  HoldInput,
  HoldResolution,
  HoldResult,
  LedgerDatabase,
  ResolveResult,
} from "./types.ts";

const DEFAULT_TTL_SECONDS = 3600;

type HoldRow = {
  status: "applied" | "already_applied" | "rejected";
  reason:
    | "insufficient_credits"
    | "invalid_amount"
    | "invalid_ttl"
    | "ref_conflict"
    | "account_not_found"
    | null;
  hold_id: string | null;
  account_id: string;
  amount: string;
  hold_status: TransferStatus | null;
  expires_at: Date | string | null;
  balance: string | null;
  held: string | null;
  available: string | null;
};

type ResolveRow = {
  status: "applied" | "already_applied" | "rejected";
  reason: "already_resolved" | "amount_exceeds_hold" | "hold_not_found" | "invalid_amount" | null;
  hold_id: string;
  account_id: string | null;
  hold_status: TransferStatus | null;
  resolution: HoldResolution["resolution"] | null;
  resolution_id: string | null;
  amount: string | null;
  captured: string | null;
  released: string | null;
};

type ExpiredRow = { hold_id: string; account_id: string; amount: string; expires_at: Date | string };

function balancesOf(row: HoldRow) {
  return {
    balance: toInteger(row.balance, "balance"),
    held: toInteger(row.held, "held"),
    available: toInteger(row.available, "available"),
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
  if (!isAccountId(accountId)) return { status: "rejected", reason: "account_not_found", accountId, amount };
  const rows = (await database.sql`
    select * from place_hold(${accountId}::uuid, ${amount}::bigint, ${input.ref ?? null}::text,
      ${ttlSeconds}::integer, ${metadataJson(input.metadata)}::jsonb)
  `) as HoldRow[];
  const row = rows[0];
  if (!row) throw new Error("ledger: place_hold returned no row");
  if (row.status === "rejected") {
    if (row.reason === "insufficient_credits") {
      return { status: "rejected", reason: row.reason, accountId, amount, ...balancesOf(row) };
    }
    return { status: "rejected", reason: row.reason ?? "invalid_amount", accountId, amount };
  }
  return {
    status: row.status,
    holdId: toInteger(row.hold_id, "hold_id"),
    accountId: row.account_id,
    amount: toInteger(row.amount, "amount"),
    holdStatus: row.hold_status ?? "pending",
    expiresAt: toTimestamp(row.expires_at, "expires_at"),
    ...balancesOf(row),
  };
}

function toResolveResult(row: ResolveRow | undefined, holdId: number): ResolveResult {
  if (!row) throw new Error("ledger: hold resolution returned no row");
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
      amount: toInteger(row.amount, "amount"),
    };
  }
  const resolution: HoldResolution = {
    holdId,
    accountId,
    holdStatus: row.hold_status === "posted" ? "posted" : "voided",
    resolution: row.resolution ?? "release",
    resolutionId: toInteger(row.resolution_id, "resolution_id"),
    amount: toInteger(row.amount, "amount"),
    captured: toInteger(row.captured, "captured"),
    released: toInteger(row.released, "released"),
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
  const rows = (await database.sql`
    select * from capture_hold(${holdId}::bigint, ${options.amount ?? null}::bigint,
      ${metadataJson(options.metadata)}::jsonb)
  `) as ResolveRow[];
  return toResolveResult(rows[0], holdId);
}

/** Releases a hold: voids it, so all of it is available again. Once, like every resolution. */
export async function releaseHold(
  database: LedgerDatabase,
  holdId: number,
  options: { metadata?: Record<string, unknown> } = {},
): Promise<ResolveResult> {
  if (!isLedgerId(holdId)) return { status: "rejected", reason: "hold_not_found", holdId };
  const rows = (await database.sql`
    select * from release_hold(${holdId}::bigint, ${metadataJson(options.metadata)}::jsonb)
  `) as ResolveRow[];
  return toResolveResult(rows[0], holdId);
}

/**
 * Voids up to `limit` holds whose TTL passed by `now`, returning the ones it voided. Holds another
 * transaction is resolving at that moment are skipped, not waited for.
 */
export async function expireHolds(
  database: LedgerDatabase,
  options: { now?: Date; limit?: number } = {},
): Promise<ExpiredHold[]> {
  const now = options.now?.toISOString() ?? null;
  const rows = (await database.sql`
    select hold_id, account_id, amount, expires_at
    from expire_holds(coalesce(${now}::timestamptz, now()), ${options.limit ?? 100}::integer)
  `) as ExpiredRow[];
  return rows.map((row) => ({
    holdId: toInteger(row.hold_id, "hold_id"),
    accountId: row.account_id,
    amount: toInteger(row.amount, "amount"),
    expiresAt: toTimestamp(row.expires_at, "expires_at"),
  }));
}
