import journal from "../../drizzle/meta/_journal.json";
import { type ConfigProblem, loadConfig } from "../config";
import { createDatabase } from "../db/client";

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

/**
 * Database reachable and schema at the bundle's migration level, in one statement. Details name the
 * failure class only: a driver message can carry a host name or a connection string.
 */
async function checkDatabase(
  databaseUrl: string,
  localNeonUrl?: string,
): Promise<{ database: Check; schema: Check }> {
  const { sql } = createDatabase(databaseUrl, localNeonUrl);
  try {
    const rows = await withTimeout(
      sql`select coalesce(max(created_at), 0)::text as level from drizzle.__drizzle_migrations`,
      DATABASE_TIMEOUT_MS,
    );
    const level = Number((rows[0] as { level: string }).level);
    const schema: Check =
      level >= LATEST_MIGRATION_LEVEL
        ? { status: "pass", detail: `at ${LATEST_MIGRATION_TAG}` }
        : { status: "fail", detail: `behind ${LATEST_MIGRATION_TAG}: run npm run db:migrate` };
    return { database: { status: "pass", detail: "reachable" }, schema };
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

export async function checkReadiness(env: object): Promise<Readiness> {
  const configResult = loadConfig(env);
  const checks: Record<string, Check> = {};
  checks.config = configResult.ok
    ? { status: "pass", detail: "valid for the environment" }
    : { status: "fail", detail: "invalid for the environment", problems: configResult.problems };

  const raw = env as { DATABASE_URL?: string; LOCAL_NEON_URL?: string };
  if (raw.DATABASE_URL) {
    Object.assign(checks, await checkDatabase(raw.DATABASE_URL, raw.LOCAL_NEON_URL || undefined));
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
