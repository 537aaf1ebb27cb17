#!/usr/bin/env node
// npm run db:status: which migrations in drizzle/ a database has applied, and which are pending.
import { parseCli } from "./lib/args.mjs";
import { appliedLevels, connect, migrationStatus, readJournal, redactUrl } from "./lib/migrations.mjs";
import { formatTable } from "./lib/report-table.mjs";

const { values } = parseCli({
  usage: `
Usage: npm run db:status [-- --database-url URL]

Lists every migration in drizzle/ and whether DATABASE_URL (or --database-url) has it applied, plus
any applied migration this checkout does not know (the database is ahead of the code).

Options:
  --database-url URL   Postgres connection string (default: $DATABASE_URL)
  -h, --help           show this help

Exit 0 when no migration is pending, 1 when one is (run npm run db:migrate) or the database cannot
be read, 2 on a usage error.
`,
  options: { "database-url": { type: "string" } },
});

const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("db:status: set DATABASE_URL or pass --database-url");
  process.exit(2);
}

const say = (/** @type {string} */ line) => console.log(`db:status: ${line}`);
say(`database ${redactUrl(databaseUrl)}`);
process.exitCode = await report(databaseUrl);

/** Prints the table and the verdict; returns the exit code. @param {string} url */
async function report(url) {
  let status;
  let unknown;
  try {
    say("connect ...");
    const client = await connect(url);
    try {
      say("read drizzle.__drizzle_migrations ...");
      status = await migrationStatus(client);
      const known = new Set(readJournal().map((e) => e.when));
      unknown = (await appliedLevels(client)).filter((when) => !known.has(when));
    } finally {
      await client.end();
    }
  } catch (error) {
    say(`FAIL: cannot read the migration state: ${/** @type {Error} */ (error).message}`);
    return 1;
  }

  const newestApplied = Math.max(0, ...status.filter((m) => m.applied).map((m) => m.when), ...unknown);
  const rows = status.map((m) => [
    m.tag,
    new Date(m.when).toISOString(),
    m.applied ? "applied" : m.when < newestApplied ? "PENDING (older than the newest applied)" : "PENDING",
  ]);
  for (const when of unknown)
    rows.push(["(not in drizzle/)", new Date(when).toISOString(), "applied, unknown"]);
  console.log(`\n${formatTable(["migration", "created", "status"], rows)}\n`);

  const pending = status.filter((m) => !m.applied);
  if (unknown.length > 0)
    say(
      `warning: ${unknown.length} applied migration(s) not in drizzle/: this checkout is older than the database`,
    );
  if (pending.some((m) => m.when < newestApplied))
    say(
      "warning: db:migrate (drizzle's migrator) applies only migrations newer than the newest applied one; " +
        "a pending migration older than that is never applied by it: apply it by hand or regenerate it",
    );
  if (pending.length === 0) {
    say(`OK: up to date, ${status.length} migration(s) applied`);
    return 0;
  }
  const tags = pending.map((m) => m.tag).join(", ");
  say(`PENDING: ${pending.length} migration(s) not applied: ${tags}; run npm run db:migrate`);
  return 1;
}
