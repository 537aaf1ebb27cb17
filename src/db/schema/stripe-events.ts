import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { transfers } from "./transfers.ts";

/**
 * What fulfilment did with an event:
 *   credited          this event topped the account up (at most one per session, see the index below)
 *   already_credited  the session had been credited by another event already
 *   awaiting_payment  checkout completed but not paid yet (an async payment method)
 *   payment_failed    the async payment failed
 *   ignored           not a Tollgate checkout (no Tollgate metadata)
 *   rejected          the session's data does not match what Tollgate sold: no credit, ops alerted
 */
export const STRIPE_EVENT_STATUSES = [
  "credited",
  "already_credited",
  "awaiting_payment",
  "payment_failed",
  "ignored",
  "rejected",
] as const;
export type StripeEventStatus = (typeof STRIPE_EVENT_STATUSES)[number];

/** `webhook`: delivered by Stripe; `reconcile`: a repair found by listing sessions (id `reconcile:<session>`). */
export const STRIPE_EVENT_SOURCES = ["webhook", "reconcile"] as const;
export type StripeEventSource = (typeof STRIPE_EVENT_SOURCES)[number];

/**
 * Each Stripe event processed, once: the primary key is the event id, inserted by `fulfil_checkout()`
 * in the same statement as the credit, so a redelivery finds its row and changes nothing.
 */
export const stripeEvents = pgTable(
  "stripe_events",
  {
    eventId: text().primaryKey(),
    type: text().notNull(),
    source: text({ enum: STRIPE_EVENT_SOURCES }).notNull(),
    sessionId: text(),
    /** The account the session names, when that is a well-formed id (not necessarily an existing one). */
    accountId: uuid(),
    packId: text(),
    credits: bigint({ mode: "number" }),
    status: text({ enum: STRIPE_EVENT_STATUSES }).notNull(),
    reason: text(),
    transferId: bigint({ mode: "number" }).references(() => transfers.id),
    receivedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // I4, enforced: a session is credited by at most one event, whichever came first.
    uniqueIndex("stripe_events_session_credited_key").on(t.sessionId).where(sql`${t.status} = 'credited'`),
    index("stripe_events_session_id_idx").on(t.sessionId),
    // webhook_failures_1h and reconcile_repairs_24h count recent rows by status.
    index("stripe_events_status_received_at_idx").on(t.status, t.receivedAt),
    check(
      "stripe_events_status_check",
      sql`${t.status} in ('credited', 'already_credited', 'awaiting_payment', 'payment_failed', 'ignored', 'rejected')`,
    ),
    check("stripe_events_source_check", sql`${t.source} in ('webhook', 'reconcile')`),
    check(
      "stripe_events_credited_check",
      sql`(${t.status} = 'credited') = (${t.transferId} is not null) and (${t.status} <> 'rejected' or ${t.reason} is not null)`,
    ),
  ],
);

export type StripeEvent = typeof stripeEvents.$inferSelect;
