import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import type pg from "pg";
import {
  appliedLevels,
  BASELINE_TAGS,
  connect,
  ensureFunctionsTable,
  FUNCTIONS_FOLDER,
  FUNCTIONS_TABLE,
  functionStatus,
  isPreBaselineHistory,
  MIGRATION_LOCK_KEY,
  MIGRATIONS_FOLDER,
  MIGRATIONS_SCHEMA,
  MIGRATIONS_TABLE,
  migrationHash,
  migrationStatus,
  PRE_BASELINE_HISTORY,
  readFunctionFiles,
  readJournal,
} from "./migrations.ts";

export type AppliedFunction = { file: string; reason: "new" | "changed" | `after ${string}` };
export type MigrationResult = {
  /** Versioned migrations run, by tag. */
  applied: string[];
  /** Versioned migrations recorded as applied without running them (carried over from the old history). */
  recorded: string[];
  /** Still pending afterwards (none unless the migrator skipped one older than the newest applied). */
  pending: string[];
  /** Function files applied, in order, and why. */
  functions: AppliedFunction[];
};

export type MigrateOptions = {
  createDatabase?: boolean;
  log?: (line: string) => void;
  migrationsFolder?: string;
  functionsFolder?: string;
};

/**
 * Brings a database to this checkout under a session advisory lock, so two concurrent runs (two
 * deploys, a deploy and a test setup) queue behind each other instead of interleaving: first the
 * pending versioned migrations (drizzle's migrator), then the function files whose content changed.
 * Idempotent: a second run applies nothing.
 */
export async function runMigrations(
  databaseUrl: string,
  {
    createDatabase = false,
    log = () => {},
    migrationsFolder = MIGRATIONS_FOLDER,
    functionsFolder = FUNCTIONS_FOLDER,
  }: MigrateOptions = {},
): Promise<MigrationResult> {
  const client = await connect(databaseUrl, { createDatabase });
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    await client.query("set client_min_messages = warning");
    const recorded = await carryOver(client, migrationsFolder, log);
    const before = await migrationStatus(client, migrationsFolder);
    const pending = before.filter((m) => !m.applied).map((m) => m.tag);
    if (pending.length > 0) {
      log(`applying ${pending.length} migration(s): ${pending.join(", ")}`);
      await migrate(drizzle({ client }), {
        migrationsFolder,
        migrationsSchema: MIGRATIONS_SCHEMA,
        migrationsTable: MIGRATIONS_TABLE,
      });
    }
    const after = await migrationStatus(client, migrationsFolder);
    const applied = after.filter((m) => m.applied && pending.includes(m.tag)).map((m) => m.tag);
    const functions = await applyFunctions(client, functionsFolder, log);
    return { applied, recorded, pending: after.filter((m) => !m.applied).map((m) => m.tag), functions };
  } finally {
    await client.query("select pg_advisory_unlock_all()").catch(() => {});
    await client.end();
  }
}

/**
 * A database migrated with the eleven migrations the baseline replaced has every table and row the
 * baseline would create: record the baseline's migrations as applied instead of running them (their
 * CREATE TABLEs would fail). Anything else that is not this checkout's history is left to the
 * migrator, except part of the old history, which no migration here can finish.
 */
async function carryOver(client: pg.ClientBase, folder: string, log: (line: string) => void) {
  const applied = await appliedLevels(client);
  const old = new Set(PRE_BASELINE_HISTORY);
  if (!applied.some((when) => old.has(when))) return [];
  const journal = readJournal(folder);
  const known = new Set(journal.map((e) => e.when));
  if (applied.some((when) => known.has(when))) return [];
  if (!isPreBaselineHistory(applied)) {
    throw new Error(
      `the database has ${applied.length} migration(s) of the history before the baseline, not all ` +
        `${PRE_BASELINE_HISTORY.length}: bring it to 0010_ops_functions with a checkout from before the ` +
        "baseline first, or recreate it",
    );
  }
  const baseline = journal.filter((e) => BASELINE_TAGS.includes(e.tag));
  log(
    `carrying over the history before the baseline: recording ${baseline.map((e) => e.tag).join(", ")} ` +
      "as applied without running them",
  );
  await client.query("begin");
  try {
    for (const entry of baseline) {
      await client.query(
        `insert into ${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE} (hash, created_at) values ($1, $2)`,
        [migrationHash(entry.tag, folder), entry.when],
      );
    }
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
  return baseline.map((e) => e.tag);
}

/**
 * Applies, in one transaction, the first function file whose content differs from what this database
 * last had applied and every file after it: a later file may replace a function an earlier one
 * defines (ledger.sql's placeholders for ledger_check_jobs and ledger_check_billing), and re-creating
 * the later files checks their SQL bodies against the changed one. Records each file's checksum.
 */
async function applyFunctions(
  client: pg.ClientBase,
  folder: string,
  log: (line: string) => void,
): Promise<AppliedFunction[]> {
  await ensureFunctionsTable(client);
  const status = await functionStatus(client, readFunctionFiles(folder));
  const first = status.findIndex((f) => f.state !== "current");
  if (first === -1) return [];
  const firstFile = status[first]?.file ?? "";
  const todo = status.slice(first).map((f) => ({
    ...f,
    reason: (f.state === "missing"
      ? "new"
      : f.state === "changed"
        ? "changed"
        : `after ${firstFile}`) as AppliedFunction["reason"],
  }));
  log(`applying ${todo.length} function file(s): ${todo.map((f) => `${f.file} (${f.reason})`).join(", ")}`);
  await client.query("begin");
  try {
    for (const f of todo) {
      try {
        await client.query(f.sql);
      } catch (error) {
        throw new Error(`${f.file}: ${(error as Error).message}`, { cause: error });
      }
      await client.query(
        `insert into ${MIGRATIONS_SCHEMA}.${FUNCTIONS_TABLE} (file, checksum) values ($1, $2)
         on conflict (file, checksum) do update set applied_at = clock_timestamp()`,
        [f.file, f.checksum],
      );
    }
    await client.query("commit");
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  }
  return todo.map((f) => ({ file: f.file, reason: f.reason }));
}
