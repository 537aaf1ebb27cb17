import { type AnyPgColumn, bigint, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { ledgerAccounts } from "./ledger-accounts.ts";

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
