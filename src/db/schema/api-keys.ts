import { sql } from "drizzle-orm";
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { accounts } from "./accounts.ts";

/**
 * API keys (src/auth/api-keys.ts). The secret itself is never stored: only its SHA-256 digest (hex),
 * looked up by equality, and a short visible prefix for people to recognise a key by. Revoking sets
 * `revoked_at`; the lookup ignores revoked rows, so revocation takes effect on the next request.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid().primaryKey().defaultRandom(),
    accountId: uuid()
      .notNull()
      .references(() => accounts.id),
    name: text().notNull(),
    environment: text({ enum: ["local", "staging", "production"] }).notNull(),
    prefix: text().notNull(),
    digest: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("api_keys_digest_key").on(t.digest),
    index("api_keys_account_id_idx").on(t.accountId, t.createdAt),
    check("api_keys_digest_check", sql`${t.digest} ~ '^[0-9a-f]{64}$'`),
    check("api_keys_environment_check", sql`${t.environment} in ('local', 'staging', 'production')`),
    check("api_keys_name_check", sql`length(${t.name}) between 1 and 100`),
  ],
);

export type ApiKey = typeof apiKeys.$inferSelect;
