#!/usr/bin/env node
// npm run db:status: which migrations in drizzle/ a database has applied and which are pending, and
// whether its function files (src/db/functions/) are current.
import { parseCli } from "./lib/args.ts";
import {
  appliedLevels,
  connect,
  type FunctionState,
  functionStatus,
  isPreBaselineHistory,
  type MigrationState,
  migrationStatus,
  PRE_BASELINE_HISTORY,
  readJournal,
  redactUrl,
} from "./lib/migrations.ts";
import { formatTable } from "./lib/report-table.ts";

const { values } = parseCli({
  usage: `
Usage: npm run db:status [-- --database-url URL]

Lists every migration in drizzle/ and whether DATABASE_URL (or --database-url) has it applied, plus
any applied migration this checkout does not know (the database is ahead of the code), then every
function file in src/db/functions/: current (this content applied), changed (another content
applied) or missing (never applied).

Options:
  --database-url URL   Postgres connection string (default: $DATABASE_URL)
  -h, --help           show this help

Exit 0 when no migration is pending and every function file is current, 1 when not (run npm run
db:migrate) or the database cannot be read, 2 on a usage error.
`,
  options: { "database-url": { type: "string" } },
});

const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("db:status: set DATABASE_URL or pass --database-url");
  process.exit(2);
}

const say = (line: string) => console.log(`db:status: ${line}`);
say(`database ${redactUrl(databaseUrl)}`);
process.exitCode = await report(databaseUrl);

/** Prints the tables and the verdict; returns the exit code. */
async function report(url: string): Promise<number> {
  let status: MigrationState[];
  let unknown: number[];
  let levels: number[];
  let functions: { file: string; state: FunctionState }[];
  try {
    say("connect ...");
    const client = await connect(url);
    try {
      say("read drizzle.__drizzle_migrations ...");
      status = await migrationStatus(client);
      const known = new Set(readJournal().map((e) => e.when));
      levels = await appliedLevels(client);
      unknown = levels.filter((when) => !known.has(when));
      say("read drizzle.__tollgate_functions ...");
      functions = await functionStatus(client);
    } finally {
      await client.end();
    }
  } catch (error) {
    say(`FAIL: cannot read the migration state: ${(error as Error).message}`);
    return 1;
  }

  // The history the baseline replaced: one row for it, whether db:migrate has carried it over or not.
  const oldHistory = new Set(PRE_BASELINE_HISTORY);
  const before = unknown.filter((when) => oldHistory.has(when));
  const foreign = unknown.filter((when) => !oldHistory.has(when));
  const baselineApplied = status.some((m) => m.applied);
  const awaitingCarryOver = !baselineApplied && isPreBaselineHistory(levels);

  const newestApplied = Math.max(0, ...status.filter((m) => m.applied).map((m) => m.when), ...foreign);
  const rows = status.map((m) => [
    m.tag,
    new Date(m.when).toISOString(),
    m.applied ? "applied" : m.when < newestApplied ? "PENDING (older than the newest applied)" : "PENDING",
  ]);
  if (before.length > 0)
    rows.push([
      `(${before.length} before the baseline)`,
      new Date(Math.max(...before)).toISOString(),
      baselineApplied ? "applied, carried over" : "applied, replaced by the baseline",
    ]);
  for (const when of foreign)
    rows.push(["(not in drizzle/)", new Date(when).toISOString(), "applied, unknown"]);
  console.log(`\n${formatTable(["migration", "created", "status"], rows)}\n`);
  console.log(
    `${formatTable(
      ["function file", "status"],
      functions.map((f) => [f.file, f.state === "current" ? "current" : f.state.toUpperCase()]),
    )}\n`,
  );

  const pending = status.filter((m) => !m.applied);
  if (foreign.length > 0)
    say(
      `warning: ${foreign.length} applied migration(s) not in drizzle/: this checkout is older than the database`,
    );
  if (awaitingCarryOver)
    say(
      "the database has the history the baseline replaced: npm run db:migrate records the baseline as " +
        "applied without running it, then applies the function files",
    );
  else if (before.length > 0 && !baselineApplied)
    say(
      `warning: ${before.length} of the ${PRE_BASELINE_HISTORY.length} migrations the baseline replaced are ` +
        "applied: db:migrate cannot carry that over (finish it with a checkout from before the baseline)",
    );
  if (pending.some((m) => m.when < newestApplied))
    say(
      "warning: db:migrate (drizzle's migrator) applies only migrations newer than the newest applied one; " +
        "a pending migration older than that is never applied by it: apply it by hand or regenerate it",
    );
  const stale = functions.filter((f) => f.state !== "current");
  if (pending.length === 0 && stale.length === 0) {
    say(
      `OK: up to date, ${status.length} migration(s) applied, ${functions.length} function file(s) current`,
    );
    return 0;
  }
  if (pending.length > 0) {
    const tags = pending.map((m) => m.tag).join(", ");
    say(`PENDING: ${pending.length} migration(s) not applied: ${tags}; run npm run db:migrate`);
  }
  if (stale.length > 0) {
    const files = stale.map((f) => `${f.file} (${f.state})`).join(", ");
    say(`PENDING: ${stale.length} function file(s) not current: ${files}; run npm run db:migrate`);
  }
  return 1;
}
