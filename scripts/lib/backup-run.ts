// db:backup as functions: one pg_dump --format=custom plus its manifest, then grandfather-father-son
// retention of the directory. scripts/db-backup.ts and go-live call them; neither prints unless given `log`.
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  backupBaseName,
  DUMP_SUFFIX,
  databaseName,
  describeMigration,
  dumpVersionProblem,
  failureSummary,
  formatBytes,
  fsyncPath,
  ledgerTotals,
  libpqConnection,
  MANIFEST_FORMAT,
  MANIFEST_SUFFIX,
  type Manifest,
  migrationLevel,
  pgToolVersion,
  progressTicker,
  runPgTool,
  serverVersion,
  sha256File,
  tableRowCounts,
  tail,
  writeFileAtomic,
} from "./backup.ts";
import { DEFAULT_POLICY, type PruneResult, pruneBackups, type RetentionPolicy } from "./backup-retention.ts";
import { connect, redactUrl } from "./migrations.ts";
import { createReport, type Row, StepFailed } from "./report-table.ts";

export type { RetentionPolicy } from "./backup-retention.ts";

/** `policy`: retention applied to `outDir` after the backup (default DEFAULT_POLICY, as db:backup). */
export type BackupOptions = {
  databaseUrl: string;
  outDir: string;
  policy?: RetentionPolicy;
  pgBin?: string;
  log?: (line: string) => void;
};
export type BackupResult = {
  ok: boolean;
  dumpPath: string | null;
  manifestPath: string | null;
  rows: Row[];
  failure: string | null;
};

export type PruneOptions = {
  outDir: string;
  policy?: RetentionPolicy;
  /** List what the policy would keep and delete; delete nothing. */
  dryRun?: boolean;
  log?: (line: string) => void;
};
export type PruneRunResult = { ok: boolean; rows: Row[]; failure: string | null };

/** How a run is stopped from outside (the CLI's SIGINT/SIGTERM): pg_dump is killed, its partial file removed. */
export type RunControl = { signal?: AbortSignal };

type Report = ReturnType<typeof createReport>;

const quiet = () => {};

/** Backs up `databaseUrl` into `outDir`, then applies retention there, never deleting the new backup. */
export async function backupDatabase(
  options: BackupOptions,
  control: RunControl = {},
): Promise<BackupResult> {
  const report = createReport("db:backup", { log: options.log ?? quiet });
  const outDir = resolve(options.outDir);
  let made: { base: string; dumpPath: string; manifestPath: string } | undefined;
  try {
    made = await makeBackup(report, options.databaseUrl, outDir, options.pgBin, control.signal);
    await retentionStep(report, outDir, options.policy ?? DEFAULT_POLICY, false, new Set([made.base]));
  } catch (error) {
    unexpected(report, error);
  }
  return {
    ok: !report.failed(),
    dumpPath: made?.dumpPath ?? null,
    manifestPath: made?.manifestPath ?? null,
    rows: report.rows,
    failure: failureSummary(report.rows),
  };
}

/** Applies retention to the backups in `outDir` without making one (db:backup --prune-only). */
export async function pruneBackupDirectory(options: PruneOptions): Promise<PruneRunResult> {
  const report = createReport("db:backup", { log: options.log ?? quiet });
  try {
    await retentionStep(
      report,
      resolve(options.outDir),
      options.policy ?? DEFAULT_POLICY,
      options.dryRun ?? false,
      new Set(),
    );
  } catch (error) {
    unexpected(report, error);
  }
  return { ok: !report.failed(), rows: report.rows, failure: failureSummary(report.rows) };
}

function unexpected(report: Report, error: unknown) {
  if (!(error instanceof StepFailed)) report.record("unexpected error", "fail", (error as Error).message);
}

function retentionStep(
  report: Report,
  outDir: string,
  policy: RetentionPolicy,
  dryRun: boolean,
  protect: Set<string>,
): Promise<PruneResult> {
  const policyText = `daily ${policy.daily}, weekly ${policy.weekly}, monthly ${policy.monthly}`;
  return report.step(
    `retention (${policyText})${dryRun ? ", dry run" : ""}`,
    async () => {
      if (!existsSync(outDir)) return { kept: 0, removed: [], warnings: [] };
      return pruneBackups(outDir, policy, { dryRun, protect, log: (line) => report.log(`  ${line}`) });
    },
    (r) =>
      `kept ${r.kept}, ${dryRun ? "would delete" : "deleted"} ${r.removed.length}` +
      `${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ""} in ${outDir}`,
  );
}

/** Makes one backup: tollgate-<db>-<time>.dump and its manifest, both complete or absent. */
async function makeBackup(
  report: Report,
  url: string,
  outDir: string,
  pgBin: string | undefined,
  signal: AbortSignal | undefined,
) {
  report.log(`database ${redactUrl(url)}, out ${outDir}`);
  const database = databaseName(url);
  const pgDump = await report.step(
    "pg_dump installed",
    () => pgToolVersion("pg_dump", pgBin),
    (v) => `pg_dump ${v.version}`,
  );
  const client = await report.step(
    "connect",
    () => connect(url),
    () => `database ${database}`,
  );
  let tempDump: string | undefined;
  try {
    const server = await report.step(
      "pg_dump version covers the server",
      async () => {
        const v = await serverVersion(client);
        const problem = dumpVersionProblem(pgDump, v);
        if (problem) throw new Error(problem);
        return v;
      },
      (v) => `pg_dump ${pgDump.major} >= PostgreSQL ${v.version}`,
    );

    // One snapshot for everything: the counts and totals in the manifest describe exactly the rows the
    // dump holds, even while the API keeps writing. The transaction stays open until pg_dump is done.
    const measured = await report.step(
      "snapshot: row counts, migration level, ledger totals",
      async () => {
        const begin = "begin isolation level repeatable read, read only";
        await client.query(begin);
        let snapshot: string | null = null;
        try {
          snapshot =
            (await client.query<{ id: string }>("select pg_export_snapshot() as id")).rows[0]?.id ?? null;
        } catch (error) {
          await client.query("rollback");
          await client.query(begin);
          report.log(
            `  warning: cannot export a snapshot (${(error as Error).message}); the counts are read ` +
              "just before the dump and may differ from it if the database is being written",
          );
        }
        // As pg_dump does: fail rather than silently count fewer rows under row-level security.
        await client.query("set local row_security = off");
        const time = new Date();
        const serverTime = (await client.query<{ t: Date }>("select now() as t")).rows[0]?.t ?? null;
        const tables = await tableRowCounts(client);
        const migration = await migrationLevel(client);
        const ledger = await ledgerTotals(client);
        return { snapshot, time, serverTime, tables, migration, ledger };
      },
      (m) =>
        `${Object.keys(m.tables).length} tables, ${Object.values(m.tables).reduce((a, b) => a + b, 0)} rows; ` +
        `migration ${describeMigration(m.migration)}; ledger ${m.ledger ? "totals read" : "absent"}`,
    );

    const base = backupBaseName(database, measured.time);
    const dumpFile = `${base}${DUMP_SUFFIX}`;
    const manifestFile = `${base}${MANIFEST_SUFFIX}`;
    // Backups hold every row, password hashes and key digests included: readable by their owner only.
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    if (existsSync(join(outDir, dumpFile)) || existsSync(join(outDir, manifestFile))) {
      report.record("backup name", "fail", `${base} already exists in ${outDir}`);
      throw new StepFailed(base);
    }
    const partial = join(outDir, `.${dumpFile}.partial-${process.pid}`);
    tempDump = partial;

    const dumped = await report.step(
      "pg_dump --format=custom",
      async () => {
        const started = Date.now();
        // Created 0600 before pg_dump writes into it, whatever the caller's umask.
        writeFileSync(partial, "", { mode: 0o600 });
        chmodSync(partial, 0o600);
        const { dbname, env } = libpqConnection(url);
        const args = ["--format=custom", `--file=${partial}`, `--dbname=${dbname}`];
        if (measured.snapshot) args.push(`--snapshot=${measured.snapshot}`);
        const stop = progressTicker(report.log, async () => `${formatBytes(statSync(partial).size)} written`);
        const result = await runPgTool("pg_dump", args, { pgBin, env, signal }).finally(stop);
        if (result.code !== 0) throw new Error(`pg_dump exited ${result.code}: ${tail(result.stderr)}`);
        fsyncPath(partial);
        return { seconds: (Date.now() - started) / 1000, ...(await sha256File(partial)) };
      },
      (d) => `${d.bytes} bytes in ${d.seconds.toFixed(1)} s, sha256 ${d.sha256.slice(0, 16)}…`,
    );
    await client.query("commit");

    const dumpPath = join(outDir, dumpFile);
    const manifestPath = join(outDir, manifestFile);
    await report.step(
      "write dump and manifest",
      async () => {
        renameSync(partial, dumpPath);
        tempDump = undefined;
        fsyncPath(outDir);
        const manifest: Manifest = {
          format: MANIFEST_FORMAT,
          database,
          time: measured.time.toISOString(),
          server_time: measured.serverTime ? measured.serverTime.toISOString() : null,
          server,
          pg_dump: pgDump,
          snapshot: measured.snapshot,
          migration: measured.migration,
          tables: measured.tables,
          ledger_totals: measured.ledger,
          dump: { file: dumpFile, bytes: dumped.bytes, sha256: dumped.sha256 },
        };
        await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
      },
      () => `${dumpPath} + ${MANIFEST_SUFFIX}`,
    );
    return { base, dumpPath, manifestPath };
  } finally {
    if (tempDump) rmSync(tempDump, { force: true });
    await client.end().catch(() => {});
  }
}
