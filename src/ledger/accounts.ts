import { z } from "zod";
import { sqlFunction, sqlQuery } from "../db/call.ts";
import { int64 } from "../db/columns.ts";
import { isUuid } from "../lib/encoding.ts";
import type { AccountBalance, AccountResult, LedgerDatabase } from "./types.ts";

const createAccountFn = sqlFunction(
  "create_account",
  { userId: "text?" },
  z.object({
    status: z.enum(["applied", "already_applied"]),
    account_id: z.string(),
    ledger_account_id: int64,
  }),
);

/**
 * Creates a customer account with its user ledger account. Idempotent on `userId`: calling it again
 * for the same user (e.g. on every sign-in) returns the existing account. Without a user, every call
 * creates a new account.
 */
export async function createAccount(
  database: LedgerDatabase,
  userId?: string | null,
): Promise<AccountResult> {
  const row = await createAccountFn.one(database, { userId: userId ?? null });
  return { status: row.status, accountId: row.account_id, ledgerAccountId: row.ledger_account_id };
}

const BalanceRow = z.object({
  account_id: z.string(),
  ledger_account_id: int64,
  balance: int64,
  held: int64,
  available: int64,
});

/** The account's balance, held and available credits; undefined for an unknown account. */
export async function getBalance(
  database: LedgerDatabase,
  accountId: string,
): Promise<AccountBalance | undefined> {
  if (!isUuid(accountId)) return undefined;
  const [row] = await sqlQuery(
    database,
    "getBalance",
    `select a.id as account_id, a.ledger_account_id, b.balance, b.held, b.available
     from accounts a cross join lateral ledger_balances(a.ledger_account_id) b
     where a.id = $1::uuid`,
    [accountId],
    BalanceRow,
  );
  if (!row) return undefined;
  return {
    accountId: row.account_id,
    ledgerAccountId: row.ledger_account_id,
    balance: row.balance,
    held: row.held,
    available: row.available,
  };
}
