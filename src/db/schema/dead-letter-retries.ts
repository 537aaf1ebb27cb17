import { pgTable, timestamp, uuid } from "drizzle-orm/pg-core";
import { jobs } from "./jobs.ts";

/**
 * A dead-lettered job an operator retried: the retry is a NEW job with a NEW hold (the dead letter's
 * hold was released and a hold resolves once), created by `retry_dead_letter()` in the statement that
 * writes this row. The primary key makes a dead letter retried at most once.
 */
export const deadLetterRetries = pgTable("dead_letter_retries", {
  jobId: uuid()
    .primaryKey()
    .references(() => jobs.id),
  retryJobId: uuid()
    .notNull()
    .unique("dead_letter_retries_retry_job_id_key")
    .references(() => jobs.id),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

export type DeadLetterRetry = typeof deadLetterRetries.$inferSelect;
