import { sql } from "drizzle-orm";
import {
  check,
  index,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { accounts } from "./accounts.ts";
import { jobs } from "./jobs.ts";

/**
 * `Idempotency-Key`s of POST /api/jobs, scoped to the account: the same key from two accounts is two
 * keys. `fingerprint` is the SHA-256 of method, path and body, so a key reused for another request is
 * recognised. `response_body` is what the first request answered, replayed as is. A key expires after
 * 24 hours and may then be used again.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    accountId: uuid()
      .notNull()
      .references(() => accounts.id),
    key: text().notNull(),
    fingerprint: text().notNull(),
    jobId: uuid().references(() => jobs.id),
    responseStatus: smallint(),
    responseBody: jsonb(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ name: "idempotency_keys_pkey", columns: [t.accountId, t.key] }),
    index("idempotency_keys_expires_at_idx").on(t.expiresAt),
    check("idempotency_keys_key_check", sql`length(${t.key}) between 1 and 255`),
    check("idempotency_keys_fingerprint_check", sql`${t.fingerprint} ~ '^[0-9a-f]{64}$'`),
  ],
);

export type IdempotencyKey = typeof idempotencyKeys.$inferSelect;
