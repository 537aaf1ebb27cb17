/** Top-ups and grants: the two ways credits come into a user account, each at most once per ref. */
import { isAccountId, isCreditAmount, metadataJson, toInteger, toTimestamp } from "./credits.ts";
import type { CreditInput, CreditRejection, CreditResult, LedgerDatabase } from "./types.ts";

type CreditRow = {
  status: "applied" | "already_applied" | "rejected";
  reason: CreditRejection | null;
  transfer_id: string | null;
  account_id: string;
  amount: string | null;
  created_at: Date | string | null;
  balance: string | null;
  held: string | null;
  available: string | null;
};

function toCreditResult(row: CreditRow | undefined, input: CreditInput): CreditResult {
  if (!row) throw new Error("ledger: credit function returned no row");
  if (row.status === "rejected") {
    return {
      status: "rejected",
      reason: row.reason ?? "invalid_amount",
      accountId: input.accountId,
      amount: input.amount,
    };
  }
  return {
    status: row.status,
    transferId: toInteger(row.transfer_id, "transfer_id"),
    accountId: row.account_id,
    amount: toInteger(row.amount, "amount"),
    createdAt: toTimestamp(row.created_at, "created_at"),
    balance: toInteger(row.balance, "balance"),
    held: toInteger(row.held, "held"),
    available: toInteger(row.available, "available"),
  };
}

/** Answers without a round trip what the database would refuse anyway, and could not even parse. */
function precheck(input: CreditInput): CreditResult | undefined {
  if (!isCreditAmount(input.amount)) {
    return { status: "rejected", reason: "invalid_amount", accountId: input.accountId, amount: input.amount };
  }
  if (!isAccountId(input.accountId)) {
    return {
      status: "rejected",
      reason: "account_not_found",
      accountId: input.accountId,
      amount: input.amount,
    };
  }
  return undefined;
}

/**
 * Credits a paid Stripe purchase: stripe → user, posted, at most once per `ref` (the Checkout Session
 * id). A replay answers already_applied with the original transfer; the same ref with another account
 * or amount is rejected `ref_conflict`. Metadata is descriptive and not compared.
 */
export async function topUp(database: LedgerDatabase, input: CreditInput): Promise<CreditResult> {
  const early = precheck(input);
  if (early) return early;
  const rows = (await database.sql`
    select * from top_up(${input.accountId}::uuid, ${input.amount}::bigint, ${input.ref}::text,
      ${metadataJson(input.metadata)}::jsonb)
  `) as CreditRow[];
  return toCreditResult(rows[0], input);
}

/**
 * Grants promotional credits: promo → user, posted, at most once per `ref`. The metadata (e.g. the
 * reason) is part of the request: a replay must carry the same metadata or it is a `ref_conflict`.
 */
export async function grantCredits(database: LedgerDatabase, input: CreditInput): Promise<CreditResult> {
  const early = precheck(input);
  if (early) return early;
  const rows = (await database.sql`
    select * from grant_credits(${input.accountId}::uuid, ${input.amount}::bigint, ${input.ref}::text,
      ${metadataJson(input.metadata)}::jsonb)
  `) as CreditRow[];
  return toCreditResult(rows[0], input);
}
