import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  check,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { ledgerAccounts } from "./accounts.ts";

/**
 * top_up (stripe → user) and grant (promo → user) are posted at once. A hold (user → revenue) is the
 * one pending kind; it resolves once, recorded by one resolution transfer pointing at it through
 * `pending_id`: capture (posted, the amount actually spent), release or expire (voided).
 */
export const TRANSFER_KINDS = ["top_up", "grant", "hold", "capture", "release", "expire"] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

export const TRANSFER_STATUSES = ["pending", "posted", "voided"] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

/** Append-only; a trigger (docs/LEDGER.md) refuses any change but a hold's pending → posted|voided. */
export const transfers = pgTable(
  "transfers",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    debitAccountId: bigint({ mode: "number" })
      .notNull()
      .references(() => ledgerAccounts.id),
    creditAccountId: bigint({ mode: "number" })
      .notNull()
      .references(() => ledgerAccounts.id),
    amount: bigint({ mode: "number" }).notNull(),
    kind: text({ enum: TRANSFER_KINDS }).notNull(),
    status: text({ enum: TRANSFER_STATUSES }).notNull(),
    ref: text(),
    pendingId: bigint({ mode: "number" }).references((): AnyPgColumn => transfers.id),
    metadata: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Idempotency: one transfer per (kind, external reference), e.g. one top-up per Checkout Session.
    uniqueIndex("transfers_kind_ref_key").on(t.kind, t.ref).where(sql`${t.ref} is not null`),
    // A hold resolves at most once: a second resolution transfer cannot exist.
    uniqueIndex("transfers_pending_id_key").on(t.pendingId).where(sql`${t.pendingId} is not null`),
    // Keyset pagination of one account's history, newest first, from either side.
    index("transfers_debit_account_id_idx").on(t.debitAccountId, t.id),
    index("transfers_credit_account_id_idx").on(t.creditAccountId, t.id),
    // expire_holds scans only what is still pending.
    index("transfers_pending_expires_at_idx").on(t.expiresAt).where(sql`${t.status} = 'pending'`),
    check("transfers_amount_check", sql`${t.amount} between 1 and 9007199254740991`),
    check("transfers_accounts_check", sql`${t.debitAccountId} <> ${t.creditAccountId}`),
    check(
      "transfers_kind_check",
      sql`${t.kind} in ('top_up', 'grant', 'hold', 'capture', 'release', 'expire')`,
    ),
    check("transfers_status_check", sql`${t.status} in ('pending', 'posted', 'voided')`),
    check(
      "transfers_hold_shape_check",
      sql`(${t.kind} = 'hold') = (${t.expiresAt} is not null) and (${t.status} <> 'pending' or ${t.kind} = 'hold')`,
    ),
    check(
      "transfers_resolution_shape_check",
      sql`(${t.pendingId} is not null) = (${t.kind} in ('capture', 'release', 'expire'))
        and (${t.kind} <> 'capture' or ${t.status} = 'posted')
        and (${t.kind} not in ('release', 'expire') or ${t.status} = 'voided')
        and (${t.kind} not in ('top_up', 'grant') or ${t.status} = 'posted')`,
    ),
  ],
);

export type Transfer = typeof transfers.$inferSelect;
