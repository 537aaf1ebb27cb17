// db:verify-restore as a function: prove a backup restores, into a temporary database, to what its
// manifest says. scripts/db-verify-restore.ts and go-live call it; it prints nothing unless given `log`.
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import type pg from "pg";
import {
  backupPaths,
  databaseName,
  describeMigration,
  failureSummary,
  formatBytes,
  LEDGER_COLUMNS,
  ledgerTotals,
  libpqConnection,
  type Manifest,
  migrationLevel,
  pgToolVersion,
  progressTicker,
  readManifest,
  runPgTool,
  serverVersion,
  sha256File,
  tableRowCounts,
  tail,
  withDatabaseName,
} from "./backup.ts";
import type { RunControl } from "./backup-run.ts";
import { connect, redactUrl } from "./migrations.ts";
import { createReport, type Row, StepFailed } from "./report-table.ts";

/**
 * `backupPath`: the .dump or its .manifest.json. `databaseUrl`: the server the temporary database
 * tollgate_verify_<random> is created on (the role needs CREATEDB); not used when `targetUrl` is given.
 * `targetUrl`: restore into this database instead, created (and dropped after) if missing; an existing
 * one must be empty and is left in place. `keep`: keep the database this run created.
 */
export type VerifyRestoreOptions = {
  backupPath: string;
  databaseUrl: string;
  targetUrl?: string;
  keep?: boolean;
  pgBin?: string;
  log?: (line: string) => void;
};
/** `restoredUrl`: the database holding the restore when the run leaves it in place (kept, existing, or not dropped). */
export type VerifyRestoreResult = {
  ok: boolean;
  rows: Row[];
  failure: string | null;
  restoredUrl: string | null;
};

type Report = ReturnType<typeof createReport>;

type Run = {
  report: Report;
  options: VerifyRestoreOptions;
  signal: AbortSignal | undefined;
  /** A database this run created and must drop: its URL and a URL on the same server to drop it from. */
  created?: { url: string; adminUrl: string };
  /** The database pg_restore was started on. */
  restoredInto?: string;
};

export async function verifyRestore(
  options: VerifyRestoreOptions,
  control: RunControl = {},
): Promise<VerifyRestoreResult> {
  const run: Run = {
    report: createReport("db:verify-restore", { log: options.log ?? (() => {}) }),
    options,
    signal: control.signal,
  };
  const { report } = run;
  let left: string | null = null;
  try {
    await verify(run);
  } catch (error) {
    if (!(error instanceof StepFailed)) report.record("unexpected error", "fail", (error as Error).message);
  } finally {
    if (run.created) {
      const dropped = await cleanUp(run, run.created);
      if (!dropped && run.restoredInto) left = run.created.url;
    } else if (options.targetUrl) {
      report.log(`${redactUrl(options.targetUrl)} was not created by this run: left in place`);
      if (run.restoredInto) left = options.targetUrl;
    }
  }
  return { ok: !report.failed(), rows: report.rows, failure: failureSummary(report.rows), restoredUrl: left };
}

async function verify(run: Run) {
  const { report, options } = run;
  const { pgBin } = options;
  const paths = backupPaths(resolve(options.backupPath));
  const manifest = await report.step(
    "manifest",
    async () => readManifest(paths.manifestPath),
    (m) =>
      `${m.database} at ${m.time}, ${Object.keys(m.tables).length} tables, migration ${describeMigration(m.migration)}`,
  );
  const dumpPath = paths.dumpPath ?? join(dirname(paths.manifestPath), manifest.dump.file);

  await report.step(
    "dump size and SHA-256",
    async () => {
      const actual = await sha256File(dumpPath).catch((error: NodeJS.ErrnoException) => {
        throw new Error(error.code === "ENOENT" ? `no dump at ${dumpPath}` : error.message);
      });
      if (actual.bytes !== manifest.dump.bytes)
        throw new Error(
          `${dumpPath} is ${actual.bytes} bytes, the manifest says ${manifest.dump.bytes}: the dump is truncated ` +
            "or is not the one this manifest describes; nothing was restored",
        );
      if (actual.sha256 !== manifest.dump.sha256)
        throw new Error(
          `SHA-256 mismatch: ${dumpPath} is ${actual.sha256}, the manifest says ${manifest.dump.sha256}: the ` +
            "dump is corrupted or is not the one this manifest describes; nothing was restored",
        );
      return actual;
    },
    (a) => `${a.bytes} bytes, sha256 ${a.sha256.slice(0, 16)}… as in the manifest`,
  );

  await report.step(
    "pg_restore can read the archive",
    async () => {
      const v = await pgToolVersion("pg_restore", pgBin);
      if (v.major < manifest.pg_dump.major)
        throw new Error(
          `pg_restore ${v.version} is older than the pg_dump ${manifest.pg_dump.version} that made the dump; ` +
            `install PostgreSQL ${manifest.pg_dump.major} client tools or pass --pg-bin <their bin directory>`,
        );
      const list = await runPgTool("pg_restore", ["--list", dumpPath], { pgBin, signal: run.signal });
      if (list.code !== 0)
        throw new Error(`the archive is unreadable (truncated or corrupt): ${tail(list.stderr)}`);
      return { version: v.version, entries: list.stdout.split("\n").filter((l) => /^\d+;/.test(l)).length };
    },
    (r) => `pg_restore ${r.version}, ${r.entries} archive entries`,
  );

  const targetUrl = await report.step(
    "temporary database",
    () => prepareTarget(run),
    (url) => `${databaseName(url)}${run.created ? " (created)" : " (existing, empty)"}`,
  );
  const target = await connect(targetUrl);
  try {
    await report.step(
      "restore (pg_restore --no-owner --no-acl --exit-on-error)",
      async () => {
        const started = Date.now();
        const v = await serverVersion(target);
        if (v.major < manifest.server.major)
          report.log(
            `  warning: restoring a PostgreSQL ${manifest.server.version} backup into ${v.version}; ` +
              "it may need features the older server lacks",
          );
        const { dbname, env } = libpqConnection(targetUrl);
        run.restoredInto = targetUrl;
        const stop = progressTicker(report.log, async () => {
          const { rows } = await target.query<{ bytes: string }>(
            "select pg_database_size(current_database())::text as bytes",
          );
          return `database ${formatBytes(Number(rows[0]?.bytes ?? 0))}`;
        });
        const result = await runPgTool(
          "pg_restore",
          ["--no-owner", "--no-acl", "--exit-on-error", `--dbname=${dbname}`, dumpPath],
          { pgBin, env, signal: run.signal },
        ).finally(stop);
        if (result.code !== 0)
          throw new Error(
            `pg_restore exited ${result.code}: ${tail(result.stderr)} (a truncated or corrupt archive, or a ` +
              "target server that cannot hold this dump)",
          );
        return (Date.now() - started) / 1000;
      },
      (seconds) => `restored in ${seconds.toFixed(1)} s`,
    );
    // Every comparison runs, so one report shows every difference.
    for (const check of [checkRowCounts, checkMigrationLevel, checkLedgerInvariants, checkLedgerTotals]) {
      await check(report, target, manifest).catch((error) => {
        if (!(error instanceof StepFailed)) throw error;
      });
    }
  } finally {
    await target.end().catch(() => {});
  }
}

/** Creates tollgate_verify_<random> (or the target if missing), or checks that an existing target is empty. */
async function prepareTarget(run: Run): Promise<string> {
  const { targetUrl, databaseUrl } = run.options;
  if (!targetUrl) {
    const url = withDatabaseName(databaseUrl, `tollgate_verify_${randomBytes(4).toString("hex")}`);
    const admin = await connect(databaseUrl);
    try {
      await admin.query(`create database "${databaseName(url)}"`);
    } finally {
      await admin.end();
    }
    run.created = { url, adminUrl: databaseUrl };
    return url;
  }
  let client: pg.Client;
  try {
    client = await connect(targetUrl);
  } catch (error) {
    if ((error as { code?: string }).code !== "3D000") throw error;
    const adminUrl = withDatabaseName(targetUrl, "postgres");
    client = await connect(targetUrl, { createDatabase: true });
    run.created = { url: targetUrl, adminUrl };
  }
  try {
    const tables = Object.keys(await tableRowCounts(client));
    if (!run.created && tables.length > 0)
      throw new Error(
        `${redactUrl(targetUrl)} is not empty (${tables.length} tables, e.g. ${tables[0]}); ` +
          "restore only into a new or empty database",
      );
  } finally {
    await client.end();
  }
  return targetUrl;
}

function checkRowCounts(report: Report, target: pg.Client, manifest: Manifest) {
  return report.step(
    "row counts per table",
    async () => {
      const restored = await tableRowCounts(target);
      const names = [...new Set([...Object.keys(manifest.tables), ...Object.keys(restored)])].sort();
      const differences = names
        .filter((t) => manifest.tables[t] !== restored[t])
        .map((t) => `${t}: restored ${restored[t] ?? "missing"}, manifest ${manifest.tables[t] ?? "absent"}`);
      if (differences.length > 0) throw new Error(differences.join("; "));
      return { tables: names.length, rows: Object.values(restored).reduce((a, b) => a + b, 0) };
    },
    (r) => `${r.tables} tables, ${r.rows} rows, all as in the manifest`,
  );
}

function checkMigrationLevel(report: Report, target: pg.Client, manifest: Manifest) {
  return report.step(
    "migration level",
    async () => {
      const level = await migrationLevel(target);
      if (level.when !== manifest.migration.when || level.applied !== manifest.migration.applied)
        throw new Error(
          `restored ${describeMigration(level)}; the manifest says ${describeMigration(manifest.migration)}`,
        );
      return level;
    },
    (level) => describeMigration(level),
  );
}

function checkLedgerInvariants(report: Report, target: pg.Client) {
  return report.step(
    "ledger invariants (ledger_check())",
    async () => {
      const { rows } = await target.query<{ present: boolean }>(
        "select to_regprocedure('public.ledger_check()') is not null as present",
      );
      if (!rows[0]?.present) return null;
      const result = await target.query<{ invariant: string; ok: boolean; detail: string | null }>(
        "select invariant, ok, detail from public.ledger_check()",
      );
      if (result.rows.length === 0) throw new Error("ledger_check() returned no invariants");
      const failing = result.rows.filter((r) => r.ok !== true);
      if (failing.length > 0)
        throw new Error(failing.map((r) => `${r.invariant}: ${r.detail ?? "not ok"}`).join("; "));
      return result.rows.map((r) => r.invariant);
    },
    (invariants) =>
      invariants
        ? `${invariants.length} ok: ${invariants.join(", ")}`
        : { skip: "no ledger_check() in this backup" },
  );
}

function checkLedgerTotals(report: Report, target: pg.Client, manifest: Manifest) {
  return report.step(
    "ledger totals",
    async () => {
      const restored = await ledgerTotals(target);
      if (restored === null && manifest.ledger_totals === null) return null;
      if (restored === null || manifest.ledger_totals === null)
        throw new Error(
          `ledger_accounts ${restored ? "restored" : "missing"}, the manifest has ${manifest.ledger_totals ? "totals" : "none"}`,
        );
      const expected = manifest.ledger_totals;
      const differences = LEDGER_COLUMNS.filter((c) => restored[c] !== expected[c]).map(
        (c) => `Σ ${c}: restored ${restored[c]}, manifest ${expected[c]}`,
      );
      if (differences.length > 0) throw new Error(differences.join("; "));
      return restored;
    },
    (t) =>
      t
        ? LEDGER_COLUMNS.map((c) => `${c} ${t[c]}`).join(", ")
        : { skip: "no ledger_accounts in this backup or the manifest" },
  );
}

/** Drops the database this run created, unless `keep`. Returns whether it is gone. */
async function cleanUp(run: Run, db: { url: string; adminUrl: string }): Promise<boolean> {
  const { report } = run;
  const name = databaseName(db.url);
  if (run.options.keep) {
    report.record("temporary database kept (--keep)", "pass", `${redactUrl(db.url)}; drop it when done`);
    return false;
  }
  report.log(`drop ${name} ...`);
  try {
    const admin = await connect(db.adminUrl);
    try {
      await admin.query(`drop database if exists "${name.replaceAll('"', '""')}" with (force)`);
    } finally {
      await admin.end();
    }
    report.record(`drop ${name}`, "pass", "dropped");
    return true;
  } catch (error) {
    report.record(`drop ${name}`, "fail", `${(error as Error).message}; drop it by hand`);
    return false;
  }
}
