import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { authUsers } from "./auth-users.ts";

/**
 * Cookie sessions, owned by better-auth (its `session` model). The cookie carries `token` signed with
 * BETTER_AUTH_SECRET; `authenticate()` verifies the signature, then finds the row by `token`.
 */
export const authSessions = pgTable(
  "auth_sessions",
  {
    id: text().primaryKey(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    token: text().notNull().unique(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    ipAddress: text(),
    userAgent: text(),
    userId: text()
      .notNull()
      .references(() => authUsers.id, { onDelete: "cascade" }),
  },
  (table) => [index("auth_sessions_user_id_idx").on(table.userId)],
);
