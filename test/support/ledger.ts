import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createDatabase } from "../../src/db/client.ts";
import type { AccountBalance, LedgerDatabase } from "../../src/ledger/index.ts";
import { checkInvariants, createAccount, getBalance, grantCredits, topUp } from "../../src/ledger/index.ts";

/** The test file's own database (test/setup/database.ts), through the same driver the Worker uses. */
export function ledgerDatabase() {
  return createDatabase(env);
}

/** Raw SQL for what the ledger module deliberately cannot do (tampering, inspecting rows). */
export async function rawSql<T = Record<string, unknown>>(
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await ledgerDatabase().sql.query(text, params)) as T[];
}

let seeded = 0;

/**
 * A fresh account holding `balance` credits, topped up (or, with `via: "grant"`, granted) in one
 * transfer. Every account gets its own user id and ref, so tests never collide.
 */
export async function makeAccount(
  options: { balance?: number; via?: "top_up" | "grant"; database?: LedgerDatabase } = {},
): Promise<{ accountId: string; ledgerAccountId: number }> {
  const database = options.database ?? ledgerDatabase();
  seeded += 1;
  const account = await createAccount(database, `user-${crypto.randomUUID()}`);
  const balance = options.balance ?? 0;
  if (balance > 0) {
    const credit = options.via === "grant" ? grantCredits : topUp;
    const result = await credit(database, {
      accountId: account.accountId,
      amount: balance,
      ref: `seed-${seeded}-${crypto.randomUUID()}`,
      metadata: { seeded: true },
    });
    expect(result.status).toBe("applied");
  }
  return { accountId: account.accountId, ledgerAccountId: account.ledgerAccountId };
}

export async function balanceOf(accountId: string, database: LedgerDatabase = ledgerDatabase()) {
  const balance = await getBalance(database, accountId);
  if (!balance) throw new Error(`no account ${accountId}`);
  return balance;
}

export async function expectBalance(
  accountId: string,
  expected: Partial<Pick<AccountBalance, "balance" | "held" | "available">>,
) {
  expect(await balanceOf(accountId)).toMatchObject(expected);
}

/**
 * Runs `ledger_check()` and fails listing every broken invariant with its detail. Call it after any
 * test that moves credits; integration test files call it in an `afterAll`.
 */
export async function expectLedgerOk(database: LedgerDatabase = ledgerDatabase()) {
  const report = await checkInvariants(database);
  const broken = report.invariants.filter((row) => !row.ok).map((row) => `${row.invariant}: ${row.detail}`);
  expect(broken, `ledger invariants broken:\n  ${broken.join("\n  ")}`).toEqual([]);
  expect(report.invariants.length).toBeGreaterThan(0);
  return report;
}

/** The statements the local Neon server ran against this file's database so far. */
export async function statementsSoFar(): Promise<number> {
  const name = decodeURIComponent(new URL(env.DATABASE_URL).pathname.slice(1));
  const response = await fetch(`${env.LOCAL_NEON_URL.replace(/\/$/, "")}/_stats`);
  const stats = (await response.json()) as { databases: Record<string, { statements: number }> };
  return stats.databases[name]?.statements ?? 0;
}

/** How many statements `fn` cost. Only meaningful while nothing else uses the database. */
export async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = await statementsSoFar();
  const result = await fn();
  return { result, statements: (await statementsSoFar()) - before };
}

/** Tallies outcomes such as "applied" or "rejected:insufficient_credits". */
export function tally(results: { status: string; reason?: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) {
    const key = r.reason ? `${r.status}:${r.reason}` : r.status;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
