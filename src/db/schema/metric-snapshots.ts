import { doublePrecision, integer, pgTable, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per minute, written by the every-minute cron (`take_metric_snapshot()`), kept 30 days. The
 * growth figures of `/api/ops/metrics` and the console's 24 h charts are read from here: a queue depth
 * is a level, so "growth in the last hour" needs what the level was an hour ago.
 */
export const metricSnapshots = pgTable("metric_snapshots", {
  /** The minute the snapshot belongs to; the primary key makes two crons in one minute write once. */
  minute: timestamp({ withTimezone: true }).primaryKey(),
  queueDepth: integer().notNull(),
  running: integer().notNull(),
  deadLetterTotal: integer().notNull(),
  failedJobs1h: integer("failed_jobs_1h").notNull(),
  webhookFailures1h: integer("webhook_failures_1h").notNull(),
  /** Null while no heartbeat was ever recorded. */
  heartbeatAgeS: doublePrecision(),
});

export type MetricSnapshot = typeof metricSnapshots.$inferSelect;
