import { z } from "zod";
import journal from "../../drizzle/meta/_journal.json" with { type: "json" };
import type { ConfigProblem, ConfigResult } from "../config/index.ts";
import { parseRows } from "../db/call.ts";
import { createDatabase } from "../db/client.ts";
import functionChecksums from "../db/functions/checksums.json" with { type: "json" };

export type CheckStatus = "pass" | "warn" | "fail";
export type Check = { status: CheckStatus; detail: string; problems?: ConfigProblem[] };
export type Readiness = { ok: boolean; status: CheckStatus; checks: Record<string, Check> };

/** The newest migration this bundle was built with; the database must be at least there. */
export const LATEST_MIGRATION_LEVEL = Math.max(0, ...journal.entries.map((e) => e.when));
const LATEST_MIGRATION_TAG = journal.entries.at(-1)?.tag ?? "none";

const DATABASE_TIMEOUT_MS = 5000;

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** The function files this bundle was built with (file → SHA-256), as npm run db:generate wrote them. */
const FUNCTION_CHECKSUMS = JSON.stringify(functionChecksums);

const LEVEL_ONLY = "select coalesce(max(created_at), 0)::text as level from drizzle.__drizzle_migrations";
// How many of the bundle's function files ($1) db:migrate never applied here with this content. A
// database applied newer content after it (a Worker rolled back) is not behind.
const FUNCTIONS_BEHIND = `(select count(*) from jsonb_each_text($1::jsonb) m where not exists (
    select 1 from drizzle.__tollgate_functions f where f.file = m.key and f.checksum = m.value))::int`;
const LEVEL_AND_FUNCTIONS = `select coalesce(max(created_at), 0)::text as level,
  ${FUNCTIONS_BEHIND} as functions_behind
  from drizzle.__drizzle_migrations`;
// The heartbeat rides along in the same statement, so readiness stays one round trip.
const LEVEL_AND_HEARTBEAT = `select coalesce(max(created_at), 0)::text as level,
  ${FUNCTIONS_BEHIND} as functions_behind,
  (select extract(epoch from now() - max(h.seen_at))::float8 from worker_heartbeats h) as heartbeat_age_s
  from drizzle.__drizzle_migrations`;

type DatabaseChecks = { database: Check; schema: Check; heartbeat?: Check };

/** Absent columns: a schema too old to have them (the LEVEL_ONLY fallback). */
const ReadinessRow = z.object({
  level: z.string(),
  functions_behind: z.number().int().optional(),
  heartbeat_age_s: z.number().nullable().optional(),
});

/** functionsBehind: undefined when the database has no record of function files at all. */
function schemaCheck(level: number, functionsBehind: number | undefined): Check {
  if (level < LATEST_MIGRATION_LEVEL)
    return { status: "fail", detail: `behind ${LATEST_MIGRATION_TAG}: run npm run db:migrate` };
  if (functionsBehind !== 0) return { status: "fail", detail: "functions behind: run npm run db:migrate" };
  return { status: "pass", detail: `at ${LATEST_MIGRATION_TAG}` };
}

/**
 * The consumer's heartbeat (docs/ARCHITECTURE.md, Operations): `warn`, never `fail`, when it is older than
 * HEARTBEAT_STALE_AFTER_S. A stale consumer delays jobs but this Worker still serves, and a fail would
 * take it out of rotation for something a restart of the consumer fixes. None at all is a fresh
 * deployment before its first cron tick; the worker_heartbeat alert catches a consumer that never runs.
 */
function heartbeatCheck(age: number | null, staleAfterS: number): Check {
  if (age === null) return { status: "pass", detail: "none recorded yet: the cron sends one every minute" };
  const rounded = Math.max(0, Math.round(age));
  return rounded > staleAfterS
    ? { status: "warn", detail: `last heartbeat ${rounded} s ago (stale after ${staleAfterS} s)` }
    : { status: "pass", detail: `last heartbeat ${rounded} s ago` };
}

/**
 * Database reachable, schema at the bundle's migration level with its function files applied (and,
 * where a consumer is expected, its heartbeat), in one statement. Details name the failure class only:
 * a driver message can carry a host name or a connection string.
 */
async function checkDatabase(
  databaseUrl: string,
  localNeonUrl?: string,
  heartbeatStaleAfterS?: number,
): Promise<DatabaseChecks> {
  const { sql } = createDatabase({ DATABASE_URL: databaseUrl, LOCAL_NEON_URL: localNeonUrl });
  const query = heartbeatStaleAfterS === undefined ? LEVEL_AND_FUNCTIONS : LEVEL_AND_HEARTBEAT;
  try {
    let rows: unknown;
    try {
      rows = await withTimeout(sql.query(query, [FUNCTION_CHECKSUMS]), DATABASE_TIMEOUT_MS);
    } catch (error) {
      // A schema too old to have worker_heartbeats, or never migrated by a runner that records function
      // files: the migration level alone tells what is missing.
      if ((error as { code?: string }).code !== "42P01") throw error;
      rows = await withTimeout(sql.query(LEVEL_ONLY), DATABASE_TIMEOUT_MS);
    }
    const [row] = parseRows("readiness", ReadinessRow, rows);
    if (!row) throw new Error("readiness answered no row");
    const checks: DatabaseChecks = {
      database: { status: "pass", detail: "reachable" },
      schema: schemaCheck(Number(row.level), row.functions_behind),
    };
    if (heartbeatStaleAfterS !== undefined) {
      checks.heartbeat =
        row.heartbeat_age_s !== undefined
          ? heartbeatCheck(row.heartbeat_age_s, heartbeatStaleAfterS)
          : { status: "warn", detail: "unknown: the schema has no heartbeats yet" };
    }
    return checks;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "42P01" || code === "3F000") {
      return {
        database: { status: "pass", detail: "reachable" },
        schema: { status: "fail", detail: "no migrations applied: run npm run db:migrate" },
      };
    }
    const reason = error instanceof Error && /timed out/.test(error.message) ? "timed out" : "unreachable";
    return {
      database: { status: "fail", detail: reason },
      schema: { status: "fail", detail: "unknown: database not reachable" },
    };
  }
}

/** `configResult` is the request's own parse of `env`; the database is reached even when it is invalid. */
export async function checkReadiness(env: object, configResult: ConfigResult): Promise<Readiness> {
  const checks: Record<string, Check> = {};
  checks.config = configResult.ok
    ? { status: "pass", detail: "valid for the environment" }
    : { status: "fail", detail: "invalid for the environment", problems: configResult.problems };

  const raw = env as { DATABASE_URL?: string; LOCAL_NEON_URL?: string };
  // Only where this Worker is (or runs) the consumer: a web role's readiness does not depend on it.
  const config = configResult.config;
  const consumerExpected =
    config !== undefined && (config.MVP_WORKER_ENABLED || config.LEGACY_QUEUE_WORKER_ENABLED);
  if (raw.DATABASE_URL) {
    Object.assign(
      checks,
      await checkDatabase(
        raw.DATABASE_URL,
        raw.LOCAL_NEON_URL || undefined,
        consumerExpected ? config.HEARTBEAT_STALE_AFTER_S : undefined,
      ),
    );
  } else {
    checks.database = { status: "fail", detail: "DATABASE_URL is not set" };
  }

  const statuses = Object.values(checks).map((c) => c.status);
  const status: CheckStatus = statuses.includes("fail")
    ? "fail"
    : statuses.includes("warn")
      ? "warn"
      : "pass";
  return { ok: status !== "fail", status, checks };
}
