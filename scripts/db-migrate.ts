#!/usr/bin/env node
// npm run db:migrate: apply pending migrations from drizzle/ and changed function files from
// src/db/functions/ over TCP.
import { parseCli } from "./lib/args.ts";
import { runMigrations } from "./lib/migrate.ts";
import { redactUrl } from "./lib/migrations.ts";

const { values } = parseCli({
  usage: `
Usage: npm run db:migrate [-- --database-url URL] [--create-database]

Applies every pending migration in drizzle/ to DATABASE_URL (or --database-url), then every function
file in src/db/functions/ whose content changed since it was last applied there (with the files after
it: ledger, auth, jobs, billing, ops), under an advisory lock so concurrent runs cannot interleave.
A database migrated with the history the baseline replaced (0000_init … 0010_ops_functions) is carried
over: the baseline is recorded as applied, not run. Running it again applies nothing. Prints what it
applied.

Options:
  --database-url URL   Postgres connection string (default: $DATABASE_URL)
  --create-database    create the database first if it does not exist
  -h, --help           show this help
`,
  options: { "database-url": { type: "string" }, "create-database": { type: "boolean" } },
});

const databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error("db:migrate: set DATABASE_URL or pass --database-url");
  process.exit(2);
}

console.log(`db:migrate: ${redactUrl(databaseUrl)}`);
try {
  const result = await runMigrations(databaseUrl, {
    createDatabase: Boolean(values["create-database"]),
    log: (line) => console.log(`db:migrate: ${line}`),
  });
  for (const tag of result.recorded) console.log(`db:migrate: recorded ${tag} (carried over, not run)`);
  for (const tag of result.applied) console.log(`db:migrate: applied ${tag}`);
  for (const f of result.functions) console.log(`db:migrate: applied functions ${f.file} (${f.reason})`);
  if (result.recorded.length + result.applied.length + result.functions.length === 0)
    console.log("db:migrate: up to date, nothing applied");
} catch (error) {
  console.error(`db:migrate: failed: ${(error as Error).message}`);
  process.exit(1);
}
