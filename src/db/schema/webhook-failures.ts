import { bigint, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Webhook deliveries that failed on Tollgate's side (the database refused or was unreachable), so
 * Stripe will retry them. Written best-effort in a statement of its own after the main one failed:
 * when the database is down this row is lost too, and the failure shows in logs and Sentry instead.
 * `webhook_failures_1h` counts these plus the events fulfilment rejected.
 */
export const webhookFailures = pgTable(
  "webhook_failures",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: text(),
    eventType: text(),
    reason: text().notNull(),
    /** The Postgres error code or error class; never a message, which may quote parameters. */
    detail: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhook_failures_created_at_idx").on(t.createdAt)],
);

export type WebhookFailure = typeof webhookFailures.$inferSelect;
