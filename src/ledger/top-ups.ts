/** Top-ups and grants: the two ways credits come into a user account, each at most once per ref. */
import { z } from "zod";
import { type SqlFunction, sqlFunction } from "../db/call.ts";
import { int64, timestamp } from "../db/columns.ts";
import { isUuid } from "../lib/encoding.ts";
import { isCreditAmount, metadataOf } from "./credits.ts";
import type { CreditInput, CreditResult, LedgerDatabase } from "./types.ts";

const CREDIT_PARAMS = { accountId: "uuid", amount: "bigint", ref: "text", metadata: "jsonb" } as const;
const CreditRow = z.object({
  status: z.enum(["applied", "already_applied", "rejected"]),
  reason: z.enum(["invalid_amount", "ref_required", "ref_conflict", "account_not_found"]).nullable(),
  transfer_id: int64.nullable(),
  account_id: z.string().nullable(),
  amount: int64.nullable(),
  created_at: timestamp.nullable(),
  balance: int64.nullable(),
  held: int64.nullable(),
  available: int64.nullable(),
});

const topUpFn = sqlFunction("top_up", CREDIT_PARAMS, CreditRow);
const grantCreditsFn = sqlFunction("grant_credits", CREDIT_PARAMS, CreditRow);

function applied<T>(value: T | null, column: string): T {
  if (value === null) throw new Error(`ledger: an applied credit answered no ${column}`);
  return value;
}

async function credit(
  fn: SqlFunction<typeof CREDIT_PARAMS, typeof CreditRow>,
  database: LedgerDatabase,
  input: CreditInput,
): Promise<CreditResult> {
  const { accountId, amount } = input;
  // Answered without a round trip: what the database would refuse anyway, and could not even parse.
  if (!isCreditAmount(amount)) return { status: "rejected", reason: "invalid_amount", accountId, amount };
  if (!isUuid(accountId)) return { status: "rejected", reason: "account_not_found", accountId, amount };
  const row = await fn.one(database, {
    accountId,
    amount,
    ref: input.ref,
    metadata: metadataOf(input.metadata),
  });
  if (row.status === "rejected") {
    return { status: "rejected", reason: row.reason ?? "invalid_amount", accountId, amount };
  }
  return {
    status: row.status,
    transferId: applied(row.transfer_id, "transfer_id"),
    accountId: applied(row.account_id, "account_id"),
    amount: applied(row.amount, "amount"),
    createdAt: applied(row.created_at, "created_at"),
    balance: applied(row.balance, "balance"),
    held: applied(row.held, "held"),
    available: applied(row.available, "available"),
  };
}

/**
 * Credits a paid Stripe purchase: stripe → user, posted, at most once per `ref` (the Checkout Session
 * id). A replay answers already_applied with the original transfer; the same ref with another account
 * or amount is rejected `ref_conflict`. Metadata is descriptive and not compared.
 */
export function topUp(database: LedgerDatabase, input: CreditInput): Promise<CreditResult> {
  return credit(topUpFn, database, input);
}

/**
 * Grants promotional credits: promo → user, posted, at most once per `ref`. The metadata (e.g. the
 * reason) is part of the request: a replay must carry the same metadata or it is a `ref_conflict`.
 */
export function grantCredits(database: LedgerDatabase, input: CreditInput): Promise<CreditResult> {
  return credit(grantCreditsFn, database, input);
}
