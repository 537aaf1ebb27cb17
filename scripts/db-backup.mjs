#!/usr/bin/env node
// npm run db:backup: pg_dump --format=custom plus a manifest, then grandfather-father-son retention.
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseCli } from "./lib/args.mjs";
import {
  backupBaseName,
  DUMP_SUFFIX,
  databaseName,
  describeMigration,
  dumpVersionProblem,
  fsyncPath,
  ledgerTotals,
  libpqConnection,
  MANIFEST_FORMAT,
  MANIFEST_SUFFIX,
  migrationLevel,
  pgToolVersion,
  runPgTool,
  serverVersion,
  sha256File,
  tableRowCounts,
  tail,
  writeFileAtomic,
} from "./lib/backup.ts";
import { DEFAULT_POLICY, pruneBackups } from "./lib/backup-retention.ts";
import { connect, redactUrl } from "./lib/migrations.ts";
import { createReport, StepFailed } from "./lib/report-table.ts";

const USAGE = `
Usage: npm run db:backup [-- --out DIR] [--database-url URL] [--keep-daily N] [--keep-weekly N]
                         [--keep-monthly N] [--prune-only] [--dry-run] [--pg-bin DIR]

Dumps DATABASE_URL with pg_dump --format=custom to DIR/tollgate-<db>-<UTC time>.dump and writes
DIR/tollgate-<db>-<UTC time>.manifest.json next to it: time, server and pg_dump versions, migration
level, exact row counts of every table and the ledger totals, all read in the dump's own snapshot, and
the dump's SHA-256 and size. Both files are written under temporary names and renamed, the manifest
last: a backup without a manifest is incomplete. Then prunes older backups in DIR (see Retention).

Retention (per database, by manifest time, UTC): keep the newest backup of each of the N most recent
days, ISO weeks and months that have one; the rules overlap. The newest backup is never deleted.

Options:
  --out DIR            where backups go (default: backups/)
  --database-url URL   Postgres connection string (default: $DATABASE_URL); use a direct, not pooled,
                       connection on Neon
  --keep-daily N       days to keep (default ${DEFAULT_POLICY.daily})
  --keep-weekly N      ISO weeks to keep (default ${DEFAULT_POLICY.weekly})
  --keep-monthly N     months to keep (default ${DEFAULT_POLICY.monthly})
  --prune-only         apply retention to DIR without making a backup
  --dry-run            list what retention would keep and delete; delete nothing, dump nothing
  --pg-bin DIR         directory holding pg_dump (default: PATH)
  -h, --help           show this help

Exit 0 when every step passed, 1 when one failed, 2 on a usage error.
`;

const { values } = parseCli({
  usage: USAGE,
  options: {
    out: { type: "string" },
    "database-url": { type: "string" },
    "keep-daily": { type: "string" },
    "keep-weekly": { type: "string" },
    "keep-monthly": { type: "string" },
    "prune-only": { type: "boolean" },
    "dry-run": { type: "boolean" },
    "pg-bin": { type: "string" },
  },
});

const usageError = (/** @type {string} */ message) => {
  process.stderr.write(`db:backup: ${message}\n${USAGE}`);
  process.exit(2);
};
const count = (/** @type {string} */ name, /** @type {number} */ fallback) => {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(String(raw))) usageError(`--${name} must be a whole number ≥ 0, got ${raw}`);
  return Number(raw);
};
const policy = {
  daily: count("keep-daily", DEFAULT_POLICY.daily),
  weekly: count("keep-weekly", DEFAULT_POLICY.weekly),
  monthly: count("keep-monthly", DEFAULT_POLICY.monthly),
};
const outDir = resolve(values.out ?? "backups");
const dryRun = Boolean(values["dry-run"]);
const pruneOnly = Boolean(values["prune-only"]) || dryRun;
const pgBin = values["pg-bin"];
const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!pruneOnly && !databaseUrl) usageError("set DATABASE_URL or pass --database-url");

// Backups hold every row, password hashes and key digests included: readable by their owner only.
process.umask(0o077);
const report = createReport("db:backup");
const aborter = new AbortController();
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"]))
  process.once(signal, () => aborter.abort());

/** @type {Set<string>} */
const protect = new Set();
try {
  if (!pruneOnly) protect.add(await backup(/** @type {string} */ (databaseUrl)));
  const policyText = `daily ${policy.daily}, weekly ${policy.weekly}, monthly ${policy.monthly}`;
  await report.step(
    `retention (${policyText})${dryRun ? ", dry run" : ""}`,
    async () => {
      if (!existsSync(outDir)) return { kept: 0, removed: [], warnings: [] };
      return pruneBackups(outDir, policy, { dryRun, protect, log: (line) => report.log(`  ${line}`) });
    },
    (r) =>
      `kept ${r.kept}, ${dryRun ? "would delete" : "deleted"} ${r.removed.length}` +
      `${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ""} in ${outDir}`,
  );
} catch (error) {
  if (!(error instanceof StepFailed))
    report.record("unexpected error", "fail", /** @type {Error} */ (error).message);
}
process.exitCode = report.finish();

/**
 * Makes one backup; returns its name (tollgate-<db>-<time>).
 * @param {string} url
 */
async function backup(url) {
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
  /** @type {string | undefined} */
  let tempDump;
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
        let snapshot = null;
        try {
          snapshot = (await client.query("select pg_export_snapshot() as id")).rows[0].id;
        } catch (error) {
          await client.query("rollback");
          await client.query(begin);
          report.log(
            `  warning: cannot export a snapshot (${/** @type {Error} */ (error).message}); the counts are read ` +
              "just before the dump and may differ from it if the database is being written",
          );
        }
        // As pg_dump does: fail rather than silently count fewer rows under row-level security.
        await client.query("set local row_security = off");
        const time = new Date();
        const serverTime = (await client.query("select now() as t")).rows[0].t;
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
    mkdirSync(outDir, { recursive: true });
    if (existsSync(join(outDir, dumpFile)) || existsSync(join(outDir, manifestFile))) {
      report.record("backup name", "fail", `${base} already exists in ${outDir}`);
      throw new StepFailed(base);
    }
    tempDump = join(outDir, `.${dumpFile}.partial-${process.pid}`);

    const dumped = await report.step(
      "pg_dump --format=custom",
      async () => {
        const started = Date.now();
        const { dbname, env } = libpqConnection(url);
        const args = ["--format=custom", `--file=${tempDump}`, `--dbname=${dbname}`];
        if (measured.snapshot) args.push(`--snapshot=${measured.snapshot}`);
        const result = await runPgTool("pg_dump", args, { pgBin, env, signal: aborter.signal });
        if (result.code !== 0) throw new Error(`pg_dump exited ${result.code}: ${tail(result.stderr)}`);
        fsyncPath(/** @type {string} */ (tempDump));
        return {
          seconds: (Date.now() - started) / 1000,
          ...(await sha256File(/** @type {string} */ (tempDump))),
        };
      },
      (d) => `${d.bytes} bytes in ${d.seconds.toFixed(1)} s, sha256 ${d.sha256.slice(0, 16)}…`,
    );
    await client.query("commit");

    await report.step(
      "write dump and manifest",
      async () => {
        renameSync(/** @type {string} */ (tempDump), join(outDir, dumpFile));
        tempDump = undefined;
        fsyncPath(outDir);
        /** @type {import("./lib/backup.ts").Manifest} */
        const manifest = {
          format: MANIFEST_FORMAT,
          database,
          time: measured.time.toISOString(),
          server_time: measured.serverTime.toISOString(),
          server,
          pg_dump: pgDump,
          snapshot: measured.snapshot,
          migration: measured.migration,
          tables: measured.tables,
          ledger_totals: measured.ledger,
          dump: { file: dumpFile, bytes: dumped.bytes, sha256: dumped.sha256 },
        };
        await writeFileAtomic(join(outDir, manifestFile), `${JSON.stringify(manifest, null, 2)}\n`);
      },
      () => `${join(outDir, dumpFile)} + ${MANIFEST_SUFFIX}`,
    );
    return base;
  } finally {
    if (tempDump) rmSync(tempDump, { force: true });
    await client.end().catch(() => {});
  }
}
