import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

export const ALERT_STATUSES = ["ok", "firing"] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const ALERT_EVENTS = ["firing", "resolved"] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/**
 * The current state of each alert rule (src/ops/alerts/rules.ts). A transition is claimed by the one
 * UPDATE that changes `status`, so two crons evaluating at once record it once; `changed_at` is the
 * start of the cooldown during which the rule may not change state again.
 */
export const alertState = pgTable(
  "alert_state",
  {
    rule: text().primaryKey(),
    status: text({ enum: ALERT_STATUSES }).notNull().default("ok"),
    value: doublePrecision(),
    threshold: doublePrecision(),
    summary: text(),
    /** Null until the first transition: a new rule may fire at once. */
    changedAt: timestamp({ withTimezone: true }),
    evaluatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("alert_state_status_check", sql`${t.status} in ('ok', 'firing')`)],
);

/**
 * The outbox of alert notifications: one row per transition, delivered to MONITOR_ALERT_WEBHOOK_URL in
 * id order. `delivered_at` is set only after a 2xx; until then every cron tick claims the row again
 * (a lease keeps two ticks from sending it at the same time).
 */
export const alertNotifications = pgTable(
  "alert_notifications",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    rule: text().notNull(),
    event: text({ enum: ALERT_EVENTS }).notNull(),
    value: doublePrecision(),
    threshold: doublePrecision(),
    summary: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    attempts: integer().notNull().default(0),
    leaseUntil: timestamp({ withTimezone: true }),
    deliveredAt: timestamp({ withTimezone: true }),
    /** The HTTP status or error class of the last failed delivery; never a response body. */
    lastError: text(),
  },
  (t) => [
    index("alert_notifications_undelivered_idx").on(t.id).where(sql`${t.deliveredAt} is null`),
    index("alert_notifications_created_at_idx").on(t.createdAt),
    check("alert_notifications_event_check", sql`${t.event} in ('firing', 'resolved')`),
  ],
);

export type AlertStateRow = typeof alertState.$inferSelect;
export type AlertNotification = typeof alertNotifications.$inferSelect;
