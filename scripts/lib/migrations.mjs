// Migration bookkeeping shared by db:migrate, db:status, the test setup and the restore check.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const MIGRATIONS_FOLDER = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "drizzle");
export const MIGRATIONS_SCHEMA = "drizzle";
export const MIGRATIONS_TABLE = "__drizzle_migrations";
// Any constant works; it only has to be the same for every process that migrates this database.
export const MIGRATION_LOCK_KEY = 7_301_338_210;

/** @returns {{ idx: number, tag: string, when: number }[]} */
export function readJournal(folder = MIGRATIONS_FOLDER) {
  const journal = JSON.parse(readFileSync(join(folder, "meta", "_journal.json"), "utf8"));
  return journal.entries.map((/** @type {any} */ e) => ({ idx: e.idx, tag: e.tag, when: e.when }));
}

/** The `when` of the newest migration in the journal: the level a ready database must be at. */
export function latestMigrationLevel(folder = MIGRATIONS_FOLDER) {
  const entries = readJournal(folder);
  return entries.length === 0 ? 0 : Math.max(...entries.map((e) => e.when));
}

/** @param {pg.ClientBase} client */
export async function appliedLevels(client) {
  const { rows } = await client.query(
    `select to_regclass('${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}') is not null as present`,
  );
  if (!rows[0].present) return [];
  const applied = await client.query(
    `select created_at::text as created_at from ${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE} order by created_at`,
  );
  return applied.rows.map((r) => Number(r.created_at));
}

/** @param {pg.ClientBase} client */
export async function migrationStatus(client, folder = MIGRATIONS_FOLDER) {
  const journal = readJournal(folder);
  const applied = new Set(await appliedLevels(client));
  return journal.map((e) => ({ ...e, applied: applied.has(e.when) }));
}

/** Connects, creating the database first when asked and it does not exist yet. */
export async function connect(databaseUrl, { createDatabase = false } = {}) {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    return client;
  } catch (error) {
    if (!createDatabase || /** @type {any} */ (error).code !== "3D000") throw error;
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
      if (!["42P04", "23505"].includes(/** @type {any} */ (createError).code)) throw createError;
    } finally {
      await admin.end();
    }
    const retry = new pg.Client({ connectionString: databaseUrl });
    await retry.connect();
    return retry;
  }
}

/** Hides the password of a connection string before it is printed. */
export function redactUrl(databaseUrl) {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "<unparseable connection string>";
  }
}
