import { isAccountId, toInteger } from "./credits.ts";
import type { AccountBalance, AccountResult, LedgerDatabase } from "./types.ts";

type AccountRow = { status: "applied" | "already_applied"; account_id: string; ledger_account_id: string };
type BalanceRow = {
  account_id: string;
  ledger_account_id: string;
  balance: string;
  held: string;
  available: string;
};

/**
 * Creates a customer account with its user ledger account. Idempotent on `userId`: calling it again
 * for the same user (e.g. on every sign-in) returns the existing account. Without a user, every call
 * creates a new account.
 */
export async function createAccount(
  database: LedgerDatabase,
  userId?: string | null,
): Promise<AccountResult> {
  const rows = (await database.sql`
    select status, account_id, ledger_account_id from create_account(${userId ?? null}::text)
  `) as AccountRow[];
  const row = rows[0];
  if (!row) throw new Error("ledger: create_account returned no row");
  return {
    status: row.status,
    accountId: row.account_id,
    ledgerAccountId: toInteger(row.ledger_account_id, "ledger_account_id"),
  };
}

/** The account's balance, held and available credits; undefined for an unknown account. */
export async function getBalance(
  database: LedgerDatabase,
  accountId: string,
): Promise<AccountBalance | undefined> {
  if (!isAccountId(accountId)) return undefined;
  const rows = (await database.sql`
    select a.id as account_id, a.ledger_account_id, b.balance, b.held, b.available
    from accounts a cross join lateral ledger_balances(a.ledger_account_id) b
    where a.id = ${accountId}::uuid
  `) as BalanceRow[];
  const row = rows[0];
  if (!row) return undefined;
  return {
    accountId: row.account_id,
    ledgerAccountId: toInteger(row.ledger_account_id, "ledger_account_id"),
    balance: toInteger(row.balance, "balance"),
    held: toInteger(row.held, "held"),
    available: toInteger(row.available, "available"),
  };
}
