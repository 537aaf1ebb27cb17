// Migration bookkeeping shared by db:migrate, db:status, the test setup and the restore check: the
// versioned migrations in drizzle/ and the function files in src/db/functions/.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export const MIGRATIONS_FOLDER = join(ROOT, "drizzle");
export const MIGRATIONS_SCHEMA = "drizzle";
export const MIGRATIONS_TABLE = "__drizzle_migrations";
// Any constant works; it only has to be the same for every process that migrates this database.
export const MIGRATION_LOCK_KEY = 7_301_338_210;

export const FUNCTIONS_FOLDER = join(ROOT, "src", "db", "functions");
/** Applied in this order: SQL-language bodies are checked when created, so a file may use earlier ones. */
export const FUNCTION_FILES = ["ledger.sql", "auth.sql", "jobs.sql", "billing.sql", "ops.sql"] as const;
/** Which content of each function file a database has had applied, one row per (file, checksum). */
export const FUNCTIONS_TABLE = "__tollgate_functions";
export const FUNCTIONS_MANIFEST = join(FUNCTIONS_FOLDER, "checksums.json");

/**
 * The `when` of the eleven migrations (0000_init … 0010_ops_functions) that the baseline squashed.
 * A database holding exactly these is carried over: the baseline is recorded, not run.
 */
export const PRE_BASELINE_HISTORY: readonly number[] = [
  1795872056407, 1795872730764, 1795872731347, 1795872760126, 1795872767274, 1795873082398, 1795873085568,
  1795873453720, 1795873480050, 1795873779701, 1795873783085,
];
/** The migrations that replaced that history; every later one runs on a carried-over database too. */
export const BASELINE_TAGS: readonly string[] = ["0000_baseline", "0001_system_accounts"];

export type JournalEntry = { idx: number; tag: string; when: number };
export type MigrationState = JournalEntry & { applied: boolean };
export type FunctionFile = { file: string; sql: string; checksum: string };
export type FunctionState = "current" | "changed" | "missing";

export function readJournal(folder = MIGRATIONS_FOLDER): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8")) as {
    entries: JournalEntry[];
  };
  return journal.entries.map((e) => ({ idx: e.idx, tag: e.tag, when: e.when }));
}

/** The `when` of the newest migration in the journal: the level a ready database must be at. */
export function latestMigrationLevel(folder = MIGRATIONS_FOLDER): number {
  const entries = readJournal(folder);
  return entries.length === 0 ? 0 : Math.max(...entries.map((e) => e.when));
}

/** A migration file's hash as drizzle's migrator records it. */
export function migrationHash(tag: string, folder = MIGRATIONS_FOLDER): string {
  return sha256(readFileSync(join(folder, `${tag}.sql`)).toString());
}

export async function appliedLevels(client: pg.ClientBase): Promise<number[]> {
  const { rows } = await client.query<{ present: boolean }>(
    `select to_regclass('${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}') is not null as present`,
  );
  if (!rows[0]?.present) return [];
  const applied = await client.query<{ created_at: string }>(
    `select created_at::text as created_at from ${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE} order by created_at`,
  );
  return applied.rows.map((r) => Number(r.created_at));
}

export async function migrationStatus(
  client: pg.ClientBase,
  folder = MIGRATIONS_FOLDER,
): Promise<MigrationState[]> {
  const journal = readJournal(folder);
  const applied = new Set(await appliedLevels(client));
  return journal.map((e) => ({ ...e, applied: applied.has(e.when) }));
}

/** True when the applied migrations are exactly the squashed pre-baseline history. */
export function isPreBaselineHistory(applied: readonly number[]): boolean {
  const old = new Set(PRE_BASELINE_HISTORY);
  return new Set(applied).size === old.size && applied.every((when) => old.has(when));
}

export function sha256(text: string | Buffer): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The function files in the order they are applied, with the SHA-256 of each file's bytes. */
export function readFunctionFiles(folder = FUNCTIONS_FOLDER): FunctionFile[] {
  return FUNCTION_FILES.map((file) => {
    const bytes = readFileSync(join(folder, file));
    return { file, sql: bytes.toString("utf8"), checksum: sha256(bytes) };
  });
}

/** file → checksum, in the order the files are applied: the content of checksums.json. */
export function functionsManifest(files = readFunctionFiles()): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f.file, f.checksum]));
}

/** checksums.json as written to disk (formatted the way the repository's formatter keeps it). */
export function formatManifest(manifest: Record<string, string>): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export async function ensureFunctionsTable(client: pg.ClientBase): Promise<void> {
  await client.query(`create schema if not exists ${MIGRATIONS_SCHEMA}`);
  await client.query(
    `create table if not exists ${MIGRATIONS_SCHEMA}.${FUNCTIONS_TABLE} (
      file text not null,
      checksum text not null,
      applied_at timestamptz not null default clock_timestamp(),
      primary key (file, checksum)
    )`,
  );
}

/** The checksum each function file was last applied with (none: never applied here). */
export async function appliedFunctions(client: pg.ClientBase): Promise<Map<string, string>> {
  const { rows } = await client.query<{ present: boolean }>(
    `select to_regclass('${MIGRATIONS_SCHEMA}.${FUNCTIONS_TABLE}') is not null as present`,
  );
  if (!rows[0]?.present) return new Map();
  const applied = await client.query<{ file: string; checksum: string }>(
    `select distinct on (file) file, checksum from ${MIGRATIONS_SCHEMA}.${FUNCTIONS_TABLE}
     order by file, applied_at desc`,
  );
  return new Map(applied.rows.map((r) => [r.file, r.checksum]));
}

export async function functionStatus(
  client: pg.ClientBase,
  files = readFunctionFiles(),
): Promise<(FunctionFile & { state: FunctionState })[]> {
  const applied = await appliedFunctions(client);
  return files.map((f) => {
    const recorded = applied.get(f.file);
    const state: FunctionState =
      recorded === undefined ? "missing" : recorded === f.checksum ? "current" : "changed";
    return { ...f, state };
  });
}

/** Connects, creating the database first when asked and it does not exist yet. */
export async function connect(databaseUrl: string, { createDatabase = false } = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    return client;
  } catch (error) {
    if (!createDatabase || (error as { code?: string }).code !== "3D000") throw error;
    const url = new URL(databaseUrl);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = "/postgres";
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    try {
      await admin.query(`create database "${name.replaceAll('"', '""')}"`);
    } catch (createError) {
      // Another process may have created it between our two attempts: Postgres reports that as
      // duplicate_database, or as a unique violation when both creates race inside the catalog.
      if (!["42P04", "23505"].includes(String((createError as { code?: string }).code))) throw createError;
    } finally {
      await admin.end();
    }
    const retry = new pg.Client({ connectionString: databaseUrl });
    await retry.connect();
    return retry;
  }
}

/** Hides the password of a connection string before it is printed. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "<unparseable connection string>";
  }
}
