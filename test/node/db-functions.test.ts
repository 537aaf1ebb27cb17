import { execFile } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { afterAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../scripts/lib/migrate.ts";
import {
  BASELINE_TAGS,
  FUNCTION_FILES,
  FUNCTIONS_FOLDER,
  FUNCTIONS_MANIFEST,
  formatManifest,
  functionsManifest,
  MIGRATIONS_SCHEMA,
  MIGRATIONS_TABLE,
  migrationHash,
  PRE_BASELINE_HISTORY,
  readJournal,
} from "../../scripts/lib/migrations.ts";
import { testDatabaseUrl, withDatabase } from "./postgres.ts";

const run = promisify(execFile);
const admin = testDatabaseUrl();
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PRE_BASELINE = join(import.meta.dirname, "fixtures", "pre-baseline");
const created: string[] = [];
const scratch: string[] = [];

async function database(label: string) {
  const name = `tollgate_fn_${label}_${runId}`;
  created.push(name);
  await withDatabase(admin, (c) => c.query(`create database "${name}"`));
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A copy of src/db/functions/ to edit, as a developer would before running db:migrate. */
function functionsCopy() {
  const dir = mkdtempSync(join(tmpdir(), "tollgate-functions-"));
  scratch.push(dir);
  cpSync(FUNCTIONS_FOLDER, dir, { recursive: true });
  return dir;
}

const migrateCli = (url: string) =>
  run(process.execPath, ["scripts/db-migrate.ts", "--database-url", url], { encoding: "utf8" });

async function ledgerFailures(url: string) {
  const { rows } = await withDatabase(url, (c) =>
    c.query("select invariant, detail from ledger_check() where not ok"),
  );
  return rows;
}

describe("SQL function files", () => {
  afterAll(async () => {
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
    await withDatabase(admin, async (c) => {
      for (const name of created) await c.query(`drop database if exists "${name}" with (force)`);
    });
  });

  it("checksums.json matches the function files", () => {
    const onDisk = readFileSync(FUNCTIONS_MANIFEST, "utf8");
    expect(
      onDisk,
      "src/db/functions/checksums.json does not match the function files: run npm run db:generate",
    ).toBe(formatManifest(functionsManifest()));
    expect(Object.keys(JSON.parse(onDisk))).toEqual([...FUNCTION_FILES]);
  });

  it("the carried-over history is exactly the pre-baseline journal, replaced by the first migrations", () => {
    expect(PRE_BASELINE_HISTORY).toEqual(readJournal(PRE_BASELINE).map((e) => e.when));
    expect(
      readJournal()
        .slice(0, BASELINE_TAGS.length)
        .map((e) => e.tag),
    ).toEqual(BASELINE_TAGS);
    expect(Math.min(...readJournal().map((e) => e.when))).toBeGreaterThan(Math.max(...PRE_BASELINE_HISTORY));
  });

  it("carries over a database migrated with the old history: baseline recorded, not run; functions applied", async () => {
    const url = await database("old");
    await withDatabase(url, async (client) => {
      await client.query("set client_min_messages = warning");
      await migrate(drizzle({ client }), {
        migrationsFolder: PRE_BASELINE,
        migrationsSchema: MIGRATIONS_SCHEMA,
        migrationsTable: MIGRATIONS_TABLE,
      });
      // Money in it before the carry-over: a customer with 500 credits, 200 of them held.
      await client.query("select * from create_account('carried-user')");
      await client.query(
        "select * from top_up((select id from accounts where user_id = 'carried-user'), 500, 'carried-top-up')",
      );
      await client.query(
        "select * from place_hold((select id from accounts where user_id = 'carried-user'), 200, 'carried-hold')",
      );
    });
    const oldRows = await withDatabase(url, (c) =>
      c.query("select id, hash, created_at::text from drizzle.__drizzle_migrations order by id"),
    );

    const first = await migrateCli(url);
    const lines = first.stdout.split("\n");
    for (const tag of BASELINE_TAGS) {
      expect(lines).toContain(`db:migrate: recorded ${tag} (carried over, not run)`);
      expect(lines).not.toContain(`db:migrate: applied ${tag}`);
    }
    for (const file of FUNCTION_FILES) expect(lines).toContain(`db:migrate: applied functions ${file} (new)`);

    const again = await migrateCli(url);
    expect(again.stdout).toContain("up to date, nothing applied");

    await withDatabase(url, async (c) => {
      const { rows } = await c.query(
        "select id, hash, created_at::text from drizzle.__drizzle_migrations order by id",
      );
      expect(rows.slice(0, oldRows.rows.length)).toEqual(oldRows.rows);
      expect(rows.slice(oldRows.rows.length).map((r) => [r.hash, Number(r.created_at)])).toEqual(
        readJournal()
          .filter((e) => BASELINE_TAGS.includes(e.tag))
          .map((e) => [migrationHash(e.tag), e.when]),
      );
      // The system accounts were seeded once, by the old history.
      const system = await c.query("select count(*)::int as n from ledger_accounts where kind <> 'user'");
      expect(system.rows[0].n).toBe(48);
      const balance = await c.query(
        "select b.* from accounts a, ledger_balances(a.ledger_account_id) b where a.user_id = 'carried-user'",
      );
      expect(balance.rows[0]).toEqual({ balance: "500", held: "200", available: "300" });
      const capture = await c.query(
        "select status from capture_hold((select id from transfers where kind = 'hold' and ref = 'carried-hold'), 150)",
      );
      expect(capture.rows[0].status).toBe("applied");
    });
    expect(await ledgerFailures(url)).toEqual([]);

    const status = await run(process.execPath, ["scripts/db-status.ts", "--database-url", url], {
      encoding: "utf8",
    });
    expect(status.stdout).toContain("OK: up to date");
  });

  it("a changed file is applied again with every file after it, in one transaction", async () => {
    const url = await database("changed");
    await runMigrations(url);

    const edited = functionsCopy();
    appendFileSync(join(edited, "jobs.sql"), "\n-- a comment is a change too\n");
    const jobs = await runMigrations(url, { functionsFolder: edited });
    expect(jobs.functions).toEqual([
      { file: "jobs.sql", reason: "changed" },
      { file: "billing.sql", reason: "after jobs.sql" },
      { file: "ops.sql", reason: "after jobs.sql" },
    ]);
    expect((await runMigrations(url, { functionsFolder: edited })).functions).toEqual([]);

    // ledger.sql holds placeholders that jobs.sql and billing.sql replace: re-applying it alone would
    // quietly empty their invariants.
    appendFileSync(join(edited, "ledger.sql"), "\n-- another change\n");
    const ledger = await runMigrations(url, { functionsFolder: edited });
    expect(ledger.functions.map((f) => f.file)).toEqual([...FUNCTION_FILES]);
    const invariants = await withDatabase(url, (c) => c.query("select invariant from ledger_check()"));
    expect(invariants.rows.map((r) => r.invariant)).toEqual(
      expect.arrayContaining(["I4.session_once", "I4.event_once", "I5"]),
    );

    // A file that fails leaves every file as it was.
    appendFileSync(join(edited, "jobs.sql"), "\n-- and another\n");
    appendFileSync(join(edited, "ops.sql"), "\nSELECT no_such_function();\n");
    const before = await withDatabase(url, (c) =>
      c.query("select file, checksum, applied_at::text from drizzle.__tollgate_functions order by 1, 2"),
    );
    await expect(runMigrations(url, { functionsFolder: edited })).rejects.toThrow(
      /^ops\.sql: .*no_such_function/,
    );
    const after = await withDatabase(url, (c) =>
      c.query("select file, checksum, applied_at::text from drizzle.__tollgate_functions order by 1, 2"),
    );
    expect(after.rows).toEqual(before.rows);

    // Back to the checkout's files.
    const restored = await runMigrations(url);
    expect(restored.functions.map((f) => f.file)).toEqual([...FUNCTION_FILES]);
    expect(await ledgerFailures(url)).toEqual([]);
  });

  it("refuses part of the old history: no migration here can finish it", async () => {
    const url = await database("partial");
    await withDatabase(url, async (c) => {
      await c.query("create schema drizzle");
      await c.query(
        "create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)",
      );
      for (const when of PRE_BASELINE_HISTORY.slice(0, 3))
        await c.query("insert into drizzle.__drizzle_migrations (hash, created_at) values ('x', $1)", [when]);
    });
    await expect(runMigrations(url)).rejects.toThrow(/3 migration\(s\) of the history before the baseline/);
  });
});
