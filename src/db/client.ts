import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../config/schema.ts";
import * as schema from "./schema/index.ts";

export type Database = ReturnType<typeof createDatabase>;

/** The raw Neon client: what every typed statement (src/db/call.ts) runs on. */
export type SqlClient = Pick<Database, "sql">;

/**
 * Points the Neon driver at the project's local Neon server in dev and tests. The driver only has a
 * global setting for this; every request of one isolate carries the same value, so setting it per
 * request is safe.
 */
function useLocalNeon(localNeonUrl: string | undefined) {
  if (!localNeonUrl) return;
  const base = localNeonUrl.replace(/\/$/, "");
  neonConfig.fetchEndpoint = () => `${base}/sql`;
}

/**
 * The one place a database client is made, once per invocation (docs/ARCHITECTURE.md, One statement
 * per operation): every statement is one HTTPS round trip to Neon, with no connection to set up or leak.
 * `db` (drizzle) serves better-auth's adapter only; Tollgate's own statements go through `sql`.
 */
export function createDatabase(target: Pick<Config, "DATABASE_URL" | "LOCAL_NEON_URL">) {
  useLocalNeon(target.LOCAL_NEON_URL);
  const sql = neon(target.DATABASE_URL);
  const db = drizzle({ client: sql, schema, casing: "snake_case" });
  return { sql, db };
}
