import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { accounts } from "./accounts.ts";

/**
 * Every Stripe Checkout Session Tollgate created, written by the server when it created it: which
 * account, which pack, how many credits for how much money. Fulfilment checks a session's event
 * against this row (when present), reconciliation and `ledger_check()` (I4) read it. The credit itself
 * lives in `transfers` (ref `checkout:<id>`); this row never changes after it is written.
 */
export const checkoutSessions = pgTable(
  "checkout_sessions",
  {
    /** The Stripe Checkout Session id (`cs_...`). */
    id: text().primaryKey(),
    accountId: uuid()
      .notNull()
      .references(() => accounts.id),
    packId: text().notNull(),
    credits: bigint({ mode: "number" }).notNull(),
    /** What the customer pays, in the currency's minor units. */
    amount: bigint({ mode: "number" }).notNull(),
    currency: text().notNull(),
    /** The Idempotency-Key sent to Stripe, derived from (account, the client's Idempotency-Key). */
    idempotencyKey: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("checkout_sessions_account_id_idx").on(t.accountId, t.createdAt),
    check("checkout_sessions_credits_check", sql`${t.credits} between 1 and 9007199254740991`),
    check("checkout_sessions_amount_check", sql`${t.amount} >= 0`),
    check("checkout_sessions_currency_check", sql`${t.currency} ~ '^[a-z]{3}$'`),
  ],
);

export type CheckoutSession = typeof checkoutSessions.$inferSelect;
