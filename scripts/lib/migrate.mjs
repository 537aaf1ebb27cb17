import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import {
  connect,
  MIGRATION_LOCK_KEY,
  MIGRATIONS_FOLDER,
  MIGRATIONS_SCHEMA,
  MIGRATIONS_TABLE,
  migrationStatus,
} from "./migrations.mjs";

/**
 * Applies pending migrations under a session advisory lock, so two concurrent runs (two deploys, a
 * deploy and a test setup) queue behind each other instead of interleaving. Idempotent.
 * @returns {Promise<{ applied: string[], pending: string[] }>}
 */
export async function runMigrations(databaseUrl, { createDatabase = false, log = () => {} } = {}) {
  const client = await connect(databaseUrl, { createDatabase });
  try {
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    const before = await migrationStatus(client);
    const pending = before.filter((m) => !m.applied).map((m) => m.tag);
    if (pending.length > 0) {
      log(`applying ${pending.length} migration(s): ${pending.join(", ")}`);
      await client.query("set client_min_messages = warning");
      await migrate(drizzle({ client }), {
        migrationsFolder: MIGRATIONS_FOLDER,
        migrationsSchema: MIGRATIONS_SCHEMA,
        migrationsTable: MIGRATIONS_TABLE,
      });
    }
    const after = await migrationStatus(client);
    const applied = after.filter((m) => m.applied && pending.includes(m.tag)).map((m) => m.tag);
    return { applied, pending: after.filter((m) => !m.applied).map((m) => m.tag) };
  } finally {
    await client.query("select pg_advisory_unlock_all()").catch(() => {});
    await client.end();
  }
}
