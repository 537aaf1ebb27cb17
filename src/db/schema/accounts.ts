import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  check,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

// A customer account and its ledger account reference each other, so both tables live in this file.

/**
 * A customer account: what API keys, jobs and checkouts belong to. Its money lives in exactly one
 * user ledger account (docs/LEDGER.md); `user_id` links a signed-in user and stays null for accounts
 * that exist without one.
 */
export const accounts = pgTable("accounts", {
  id: uuid().primaryKey().defaultRandom(),
  userId: text().unique("accounts_user_id_key"),
  ledgerAccountId: bigint({ mode: "number" })
    .notNull()
    .unique("accounts_ledger_account_id_key")
    .references((): AnyPgColumn => ledgerAccounts.id),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type Account = typeof accounts.$inferSelect;

export const LEDGER_ACCOUNT_KINDS = ["user", "stripe", "promo", "revenue"] as const;
export type LedgerAccountKind = (typeof LEDGER_ACCOUNT_KINDS)[number];

/** 2^53 − 1: every amount and total stays a safe JavaScript integer (see src/ledger/credits.ts). */
const MAX_CREDITS = sql.raw("9007199254740991");

/**
 * TigerBeetle-style accounts: four running totals, never a stored balance. System accounts (stripe,
 * promo, revenue) come in shards so that no single row is locked by every top-up or hold.
 */
export const ledgerAccounts = pgTable(
  "ledger_accounts",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text({ enum: LEDGER_ACCOUNT_KINDS }).notNull(),
    accountId: uuid()
      .unique("ledger_accounts_account_id_key")
      .references((): AnyPgColumn => accounts.id),
    shard: smallint(),
    debitsPending: bigint({ mode: "number" }).notNull().default(0),
    debitsPosted: bigint({ mode: "number" }).notNull().default(0),
    creditsPending: bigint({ mode: "number" }).notNull().default(0),
    creditsPosted: bigint({ mode: "number" }).notNull().default(0),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("ledger_accounts_system_shard_key").on(t.kind, t.shard).where(sql`${t.kind} <> 'user'`),
    check("ledger_accounts_kind_check", sql`${t.kind} in ('user', 'stripe', 'promo', 'revenue')`),
    // A user ledger account belongs to exactly one customer account; a system account to none.
    check(
      "ledger_accounts_owner_check",
      sql`(${t.kind} = 'user') = (${t.accountId} is not null) and (${t.kind} = 'user') = (${t.shard} is null)`,
    ),
    check(
      "ledger_accounts_totals_check",
      sql`${t.debitsPending} between 0 and ${MAX_CREDITS} and ${t.debitsPosted} between 0 and ${MAX_CREDITS}
        and ${t.creditsPending} between 0 and ${MAX_CREDITS} and ${t.creditsPosted} between 0 and ${MAX_CREDITS}`,
    ),
    // Holds count against the balance, and the database makes overdrawing impossible.
    check(
      "ledger_accounts_user_not_overdrawn_check",
      sql`${t.kind} <> 'user' or ${t.debitsPending} + ${t.debitsPosted} <= ${t.creditsPosted}`,
    ),
  ],
);

export type LedgerAccount = typeof ledgerAccounts.$inferSelect;
