import { bigint, index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per heartbeat the jobs consumer received. The cron sends the heartbeat through the jobs queue, so
 * the age of the newest row measures the real consumer end to end (docs/ARCHITECTURE.md, Operations).
 */
export const workerHeartbeats = pgTable(
  "worker_heartbeats",
  {
    id: bigint({ mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    role: text().notNull(),
    deployment: text().notNull(),
    seenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("worker_heartbeats_seen_at_idx").on(t.seenAt)],
);

export type WorkerHeartbeat = typeof workerHeartbeats.$inferSelect;
