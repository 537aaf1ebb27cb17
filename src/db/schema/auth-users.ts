import { boolean, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Browser users, owned by better-auth (its `user` model). Property names are better-auth's field
 * names; columns are snake_case. An AFTER INSERT trigger gives every new user its Tollgate account and
 * ledger account in the same statement (drizzle/*_auth_functions.sql).
 */
export const authUsers = pgTable("auth_users", {
  id: text().primaryKey(),
  name: text().notNull(),
  email: text().notNull().unique(),
  emailVerified: boolean().notNull().default(false),
  image: text(),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
