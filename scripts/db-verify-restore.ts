#!/usr/bin/env node
// npm run db:verify-restore: prove a backup restores, into a temporary database, to what its manifest says.
// The work is verifyRestore (scripts/lib/verify-restore.ts); this parses arguments, prints its progress
// and table, and exits 0 (all passed), 1 (a check failed) or 2 (usage).
import { parseCli } from "./lib/args.ts";
import { finishReport } from "./lib/report-table.ts";
import { verifyRestore } from "./lib/verify-restore.ts";

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

const usageError = (message: string): never => {
  process.stderr.write(`db:verify-restore: ${message}\n${USAGE}`);
  process.exit(2);
};
const backupPath = values.backup || usageError("--backup PATH is required");
const targetUrl = values["target-url"];
const serverUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!targetUrl && !serverUrl) usageError("set DATABASE_URL or pass --database-url (or --target-url)");
// Only the temporary database of a run without --target-url is made on serverUrl.
const databaseUrl = (serverUrl || targetUrl) as string;

const log = (line: string) => process.stdout.write(`db:verify-restore: ${line}\n`);
const aborter = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => aborter.abort());

const result = await verifyRestore(
  {
    backupPath,
    databaseUrl,
    targetUrl,
    keep: Boolean(values.keep),
    pgBin: values["pg-bin"],
    log,
  },
  { signal: aborter.signal },
);
process.exitCode = finishReport("db:verify-restore", result.rows);
