import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { authUsers } from "./auth-users.ts";

/**
 * Sign-in methods per user, owned by better-auth (its `account` model, renamed here so it is never
 * confused with Tollgate's `accounts`). For e-mail + password, `password` holds the scrypt hash.
 */
export const authCredentials = pgTable(
  "auth_credentials",
  {
    id: text().primaryKey(),
    accountId: text().notNull(),
    providerId: text().notNull(),
    userId: text()
      .notNull()
      .references(() => authUsers.id, { onDelete: "cascade" }),
    accessToken: text(),
    refreshToken: text(),
    idToken: text(),
    accessTokenExpiresAt: timestamp({ withTimezone: true }),
    refreshTokenExpiresAt: timestamp({ withTimezone: true }),
    scope: text(),
    password: text(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("auth_credentials_user_id_idx").on(table.userId)],
);
