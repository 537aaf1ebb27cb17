#!/usr/bin/env node
// npm run db:backup: pg_dump --format=custom plus a manifest, then grandfather-father-son retention.
// The work is backupDatabase / pruneBackupDirectory (scripts/lib/backup-run.ts); this parses arguments,
// prints their progress and table, and exits 0 (all passed), 1 (a step failed) or 2 (usage).
import { parseCli } from "./lib/args.ts";
import { DEFAULT_POLICY, type RetentionPolicy } from "./lib/backup-retention.ts";
import { backupDatabase, pruneBackupDirectory } from "./lib/backup-run.ts";
import { finishReport } from "./lib/report-table.ts";

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

const usageError = (message: string): never => {
  process.stderr.write(`db:backup: ${message}\n${USAGE}`);
  process.exit(2);
};
const count = (name: "keep-daily" | "keep-weekly" | "keep-monthly", fallback: number): number => {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) usageError(`--${name} must be a whole number ≥ 0, got ${raw}`);
  return Number(raw);
};
const policy: RetentionPolicy = {
  daily: count("keep-daily", DEFAULT_POLICY.daily),
  weekly: count("keep-weekly", DEFAULT_POLICY.weekly),
  monthly: count("keep-monthly", DEFAULT_POLICY.monthly),
};
const outDir = values.out ?? "backups";
const dryRun = Boolean(values["dry-run"]);
const pruneOnly = Boolean(values["prune-only"]) || dryRun;
const pgBin = values["pg-bin"];
const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!pruneOnly && !databaseUrl) usageError("set DATABASE_URL or pass --database-url");

// Backups hold every row, password hashes and key digests included: readable by their owner only.
process.umask(0o077);
const log = (line: string) => process.stdout.write(`db:backup: ${line}\n`);
const aborter = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => aborter.abort());

const result = pruneOnly
  ? await pruneBackupDirectory({ outDir, policy, dryRun, log })
  : await backupDatabase(
      { databaseUrl: databaseUrl as string, outDir, policy, pgBin, log },
      { signal: aborter.signal },
    );
process.exitCode = finishReport("db:backup", result.rows);
