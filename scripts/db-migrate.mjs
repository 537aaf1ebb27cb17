#!/usr/bin/env node
// npm run db:migrate: apply pending migrations from drizzle/ over TCP.
import { parseCli } from "./lib/args.mjs";
import { runMigrations } from "./lib/migrate.mjs";
import { redactUrl } from "./lib/migrations.mjs";

const { values } = parseCli({
  usage: `
Usage: npm run db:migrate [-- --database-url URL] [--create-database]

Applies every pending migration in drizzle/ to DATABASE_URL (or --database-url), under an advisory
lock so concurrent runs cannot interleave. Running it again applies nothing. Prints what it applied.

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
  if (result.applied.length === 0) console.log("db:migrate: up to date, nothing applied");
  else for (const tag of result.applied) console.log(`db:migrate: applied ${tag}`);
} catch (error) {
  console.error(`db:migrate: failed: ${/** @type {Error} */ (error).message}`);
  process.exit(1);
}
