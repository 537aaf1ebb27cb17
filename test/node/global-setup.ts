import type { TestProject } from "vitest/node";
import { runMigrations } from "../../scripts/lib/migrate.ts";
import { startEmbeddedPostgres } from "../../scripts/local-neon/embedded.ts";
import { startLocalNeon } from "../../scripts/local-neon/server.ts";
import { startStripeEmulator } from "../../scripts/stripe-emulator/server.ts";
import { postgresReachable, testDatabaseUrl, withDatabase } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    localNeonUrl: string;
    adminDatabaseUrl: string;
    templateDatabase: string;
    templateDatabaseUrl: string;
    runId: string;
    stripeEmulatorUrl: string;
  }
}

/**
 * Starts the local Neon server over the machine's Postgres (TEST_DATABASE_URL), migrates a template
 * database once, and hands its name to every test file, which clones its own copy
 * (test/setup/database.ts). Without a reachable Postgres it falls back to embedded PGlite and says so.
 */
export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  let adminDatabaseUrl = testDatabaseUrl();
  let embedded: { close(): Promise<void> } | undefined;
  let templateDatabase = `tollgate_tpl_${runId}`;

  if (await postgresReachable(adminDatabaseUrl)) {
    await withDatabase(adminDatabaseUrl, (client) => client.query(`create database "${templateDatabase}"`));
  } else {
    const pglite = await startEmbeddedPostgres({ dataDir: `.data/test-pglite-${runId}` });
    embedded = pglite;
    adminDatabaseUrl = pglite.connectionString;
    templateDatabase = "";
    console.log(
      `tollgate tests: no Postgres at ${new URL(testDatabaseUrl()).host}; using embedded PGlite (one shared database, files run one at a time)`,
    );
  }

  const templateDatabaseUrl = templateDatabase
    ? withDatabaseName(adminDatabaseUrl, templateDatabase)
    : adminDatabaseUrl;
  await runMigrations(templateDatabaseUrl);
  const neon = await startLocalNeon({});
  // One Stripe emulator for every test file (billing); it forwards no webhooks: tests deliver them.
  const stripe = await startStripeEmulator({});

  project.provide("localNeonUrl", neon.url);
  project.provide("adminDatabaseUrl", adminDatabaseUrl);
  project.provide("templateDatabase", templateDatabase);
  project.provide("templateDatabaseUrl", templateDatabaseUrl);
  project.provide("runId", runId);
  project.provide("stripeEmulatorUrl", stripe.url);

  return async () => {
    await stripe.close();
    await neon.close();
    if (embedded) {
      await embedded.close();
      return;
    }
    await withDatabase(adminDatabaseUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>(
        "select datname from pg_database where datname like $1 or datname = $2",
        [`tollgate_t_${runId}_%`, templateDatabase],
      );
      for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
    });
  };
}

function withDatabaseName(url: string, name: string) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
