import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { accounts } from "./accounts.ts";
import { transfers } from "./transfers.ts";

/**
 * queued → running → succeeded | failed | dead_lettered; queued → canceled; hold TTL → expired.
 * A job that fails an attempt goes back to queued until its next attempt (see docs/JOB_TYPES.md).
 */
export const JOB_STATUSES = [
  "queued",
  "running",
  "succeeded",
  "failed",
  "dead_lettered",
  "canceled",
  "expired",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINISHED_JOB_STATUSES = ["succeeded", "failed", "dead_lettered", "canceled", "expired"] as const;

/**
 * A paid job. The row is also the outbox: a job that is `queued` needs a queue message, and the
 * sweeper re-sends one for every job still queued after a while (`last_sent_at` records the last
 * re-send). Every job has exactly one hold (`hold_id`), placed in the statement that created it.
 */
export const jobs = pgTable(
  "jobs",
  {
    id: uuid().primaryKey().defaultRandom(),
    accountId: uuid()
      .notNull()
      .references(() => accounts.id),
    type: text().notNull(),
    input: jsonb().notNull(),
    status: text({ enum: JOB_STATUSES }).notNull().default("queued"),
    holdId: bigint({ mode: "number" })
      .notNull()
      .unique("jobs_hold_id_key")
      .references(() => transfers.id),
    /** Credits held for the job. */
    cost: bigint({ mode: "number" }).notNull(),
    /** Credits captured when it succeeded (≤ cost; the rest was released). */
    charged: bigint({ mode: "number" }),
    output: jsonb(),
    lastError: text(),
    /** Attempts started so far; also the fencing token of the current lease. */
    attempts: integer().notNull().default(0),
    maxAttempts: integer().notNull(),
    /** While running: the time after which the sweeper may take the job back. */
    leaseUntil: timestamp({ withTimezone: true }),
    /** The earliest time of the next attempt (backoff after a failure). */
    runAfter: timestamp({ withTimezone: true }).notNull().defaultNow(),
    lastSentAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    // Keyset pagination of one account's jobs, newest first, with or without a status filter.
    index("jobs_account_created_idx").on(t.accountId, t.createdAt, t.id),
    index("jobs_account_status_created_idx").on(t.accountId, t.status, t.createdAt, t.id),
    // The sweeper and the legacy poller scan only queued and running jobs.
    index("jobs_queued_run_after_idx").on(t.runAfter).where(sql`${t.status} = 'queued'`),
    index("jobs_running_lease_idx").on(t.leaseUntil).where(sql`${t.status} = 'running'`),
    check(
      "jobs_status_check",
      sql`${t.status} in ('queued', 'running', 'succeeded', 'failed', 'dead_lettered', 'canceled', 'expired')`,
    ),
    check("jobs_cost_check", sql`${t.cost} between 1 and 9007199254740991`),
    check("jobs_charged_check", sql`${t.charged} is null or ${t.charged} between 1 and ${t.cost}`),
    // A queued job always has an attempt left: whoever puts a job back in the queue checks this first.
    check(
      "jobs_attempts_check",
      sql`${t.attempts} between 0 and ${t.maxAttempts} and ${t.maxAttempts} >= 1
        and (${t.status} <> 'queued' or ${t.attempts} < ${t.maxAttempts})`,
    ),
    check("jobs_lease_check", sql`(${t.status} = 'running') = (${t.leaseUntil} is not null)`),
    check("jobs_type_check", sql`${t.type} ~ '^[a-z][a-z0-9_]{0,63}$'`),
  ],
);

export type Job = typeof jobs.$inferSelect;
