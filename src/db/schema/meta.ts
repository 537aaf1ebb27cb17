import { pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Small key/value facts about the deployment (e.g. when the schema was first created). */
export const appMeta = pgTable("app_meta", {
  key: text().primaryKey(),
  value: text().notNull(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});
