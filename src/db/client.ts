import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import * as schema from "./schema/index.ts";

export type Database = ReturnType<typeof createDatabase>;

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
 * One HTTP client per request (DESIGN §4): every statement is one HTTPS round trip to Neon, with no
 * connection to set up or leak. Never created at module scope.
 */
export function createDatabase(databaseUrl: string, localNeonUrl?: string) {
  useLocalNeon(localNeonUrl);
  const sql = neon(databaseUrl);
  const db = drizzle({ client: sql, schema, casing: "snake_case" });
  return { sql, db };
}
