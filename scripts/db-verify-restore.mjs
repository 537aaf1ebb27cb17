#!/usr/bin/env node
// npm run db:verify-restore: prove a backup restores, into a temporary database, to what its manifest says.
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { parseCli } from "./lib/args.mjs";
import {
  backupPaths,
  databaseName,
  describeMigration,
  LEDGER_COLUMNS,
  ledgerTotals,
  libpqConnection,
  migrationLevel,
  pgToolVersion,
  readManifest,
  runPgTool,
  serverVersion,
  sha256File,
  tableRowCounts,
  tail,
  withDatabaseName,
} from "./lib/backup.ts";
import { connect, redactUrl } from "./lib/migrations.ts";
import { createReport, StepFailed } from "./lib/report-table.ts";

const USAGE = `
Usage: npm run db:verify-restore -- --backup PATH [--database-url URL | --target-url URL] [--keep]
                                    [--pg-bin DIR]

Checks a backup made by db:backup end to end:
  1. the manifest is complete and the dump's size and SHA-256 match it (nothing is restored otherwise);
  2. pg_restore can read the archive;
  3. it restores into a new database tollgate_verify_<random> on the server of --database-url;
  4. the restored database has the manifest's row count in every table, its migration level, and
     its ledger totals, and every ledger invariant holds (select * from ledger_check());
  5. the temporary database is dropped, on failure too (unless --keep).

Options:
  --backup PATH        the .dump file or its .manifest.json
  --database-url URL   server to create the temporary database on (default: $DATABASE_URL); the
                       role needs CREATEDB. The database the URL names is only used to connect.
  --target-url URL     restore into this database instead: created (and dropped after) if it does
                       not exist; an existing one must be empty and is left in place
  --keep               keep the restored database for inspection (its URL is printed)
  --pg-bin DIR         directory holding pg_restore (default: PATH)
  -h, --help           show this help

Exit 0 when every check passed, 1 when one failed, 2 on a usage error.
`;

const { values } = parseCli({
  usage: USAGE,
  options: {
    backup: { type: "string" },
    "database-url": { type: "string" },
    "target-url": { type: "string" },
    keep: { type: "boolean" },
    "pg-bin": { type: "string" },
  },
});

const usageError = (/** @type {string} */ message) => {
  process.stderr.write(`db:verify-restore: ${message}\n${USAGE}`);
  process.exit(2);
};
if (!values.backup) usageError("--backup PATH is required");
const serverUrl = values["database-url"] ?? process.env.DATABASE_URL;
const targetUrlOption = values["target-url"];
if (!targetUrlOption && !serverUrl) usageError("set DATABASE_URL or pass --database-url (or --target-url)");
const pgBin = values["pg-bin"];
const keep = Boolean(values.keep);

const report = createReport("db:verify-restore");
const aborter = new AbortController();
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"]))
  process.once(signal, () => aborter.abort());

/** A database this run created and must drop: its URL and a URL on the same server to drop it from. */
/** @type {{ url: string, adminUrl: string } | undefined} */
let created;
try {
  await verify();
} catch (error) {
  if (!(error instanceof StepFailed))
    report.record("unexpected error", "fail", /** @type {Error} */ (error).message);
} finally {
  if (created) await cleanUp(created);
  else if (targetUrlOption)
    report.log(`${redactUrl(targetUrlOption)} was not created by this run: left in place`);
}
process.exitCode = report.finish();

async function verify() {
  const paths = backupPaths(resolve(/** @type {string} */ (values.backup)));
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
      const actual = await sha256File(dumpPath).catch((error) => {
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
      const list = await runPgTool("pg_restore", ["--list", dumpPath], { pgBin, signal: aborter.signal });
      if (list.code !== 0)
        throw new Error(`the archive is unreadable (truncated or corrupt): ${tail(list.stderr)}`);
      return { version: v.version, entries: list.stdout.split("\n").filter((l) => /^\d+;/.test(l)).length };
    },
    (r) => `pg_restore ${r.version}, ${r.entries} archive entries`,
  );

  const targetUrl = await report.step(
    "temporary database",
    prepareTarget,
    (url) => `${databaseName(url)}${created ? " (created)" : " (existing, empty)"}`,
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
        const result = await runPgTool(
          "pg_restore",
          ["--no-owner", "--no-acl", "--exit-on-error", `--dbname=${dbname}`, dumpPath],
          { pgBin, env, signal: aborter.signal },
        );
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
      await check(target, manifest).catch((error) => {
        if (!(error instanceof StepFailed)) throw error;
      });
    }
  } finally {
    await target.end().catch(() => {});
  }
}

/** Creates tollgate_verify_<random> (or --target-url if missing), or checks that --target-url is empty. */
async function prepareTarget() {
  if (!targetUrlOption) {
    const url = withDatabaseName(
      /** @type {string} */ (serverUrl),
      `tollgate_verify_${randomBytes(4).toString("hex")}`,
    );
    const admin = await connect(/** @type {string} */ (serverUrl));
    try {
      await admin.query(`create database "${databaseName(url)}"`);
    } finally {
      await admin.end();
    }
    created = { url, adminUrl: /** @type {string} */ (serverUrl) };
    return url;
  }
  let client;
  try {
    client = await connect(targetUrlOption);
  } catch (error) {
    if (/** @type {any} */ (error).code !== "3D000") throw error;
    const adminUrl = withDatabaseName(targetUrlOption, "postgres");
    client = await connect(targetUrlOption, { createDatabase: true });
    created = { url: targetUrlOption, adminUrl };
  }
  try {
    const tables = Object.keys(await tableRowCounts(client));
    if (!created && tables.length > 0)
      throw new Error(
        `${redactUrl(targetUrlOption)} is not empty (${tables.length} tables, e.g. ${tables[0]}); ` +
          "restore only into a new or empty database",
      );
  } finally {
    await client.end();
  }
  return targetUrlOption;
}

/** @typedef {import("./lib/backup.ts").Manifest} Manifest */

/** @param {import("pg").Client} target @param {Manifest} manifest */
function checkRowCounts(target, manifest) {
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

/** @param {import("pg").Client} target @param {Manifest} manifest */
function checkMigrationLevel(target, manifest) {
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

/** @param {import("pg").Client} target */
function checkLedgerInvariants(target) {
  return report.step(
    "ledger invariants (ledger_check())",
    async () => {
      const { rows } = await target.query(
        "select to_regprocedure('public.ledger_check()') is not null as present",
      );
      if (!rows[0].present) return null;
      const result = await target.query("select invariant, ok, detail from public.ledger_check()");
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

/** @param {import("pg").Client} target @param {Manifest} manifest */
function checkLedgerTotals(target, manifest) {
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

/** Drops the database this run created, unless --keep. @param {{ url: string, adminUrl: string }} db */
async function cleanUp(db) {
  const name = databaseName(db.url);
  if (keep) {
    report.record("temporary database kept (--keep)", "pass", `${redactUrl(db.url)}; drop it when done`);
    return;
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
  } catch (error) {
    report.record(`drop ${name}`, "fail", `${/** @type {Error} */ (error).message}; drop it by hand`);
  }
}
