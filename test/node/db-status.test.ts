import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../scripts/lib/migrate.ts";
import { FUNCTION_FILES, readJournal } from "../../scripts/lib/migrations.ts";
import { testDatabaseUrl, withDatabase } from "./postgres.ts";

const admin = testDatabaseUrl();
const name = `tollgate_status_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const url = (() => {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
})();

type Result = { code: number; stdout: string; stderr: string };
const status = (...args: string[]) =>
  new Promise<Result>((resolve) => {
    execFile(
      process.execPath,
      ["scripts/db-status.ts", ...args],
      { encoding: "utf8" },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

describe("npm run db:status", () => {
  beforeAll(() => runMigrations(url, { createDatabase: true }));
  afterAll(() => withDatabase(admin, (c) => c.query(`drop database if exists "${name}" with (force)`)));

  it("exits 0 and lists every migration as applied when the database is up to date", async () => {
    const result = await status("--database-url", url);
    expect(result.code, result.stdout).toBe(0);
    for (const { tag } of readJournal())
      expect(result.stdout).toMatch(new RegExp(`\\| ${tag} +\\| \\S+ +\\| applied`));
    for (const file of FUNCTION_FILES) expect(result.stdout).toMatch(new RegExp(`\\| ${file} +\\| current`));
    expect(result.stdout).toContain("up to date");
  });

  it("exits 1 and names a function file applied with other content, or never applied", async () => {
    await withDatabase(url, async (c) => {
      await c.query("update drizzle.__tollgate_functions set checksum = 'older' where file = 'jobs.sql'");
      await c.query("delete from drizzle.__tollgate_functions where file = 'ops.sql'");
    });
    const result = await status("--database-url", url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\| jobs\.sql +\| CHANGED/);
    expect(result.stdout).toMatch(/\| ops\.sql +\| MISSING/);
    expect(result.stdout).toMatch(/\| ledger\.sql +\| current/);
    expect(result.stdout).toContain(
      "not current: jobs.sql (changed), ops.sql (missing); run npm run db:migrate",
    );
    await runMigrations(url);
    expect((await status("--database-url", url)).code).toBe(0);
  });

  it("exits 1 and names the pending migration when the newest one is not applied", async () => {
    const when = await withDatabase(url, async (c) => {
      const { rows } = await c.query(
        "delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations) returning created_at::text",
      );
      return Number(rows[0].created_at);
    });
    const newest = readJournal().find((e) => e.when === when) as { tag: string };
    const result = await status("--database-url", url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`\\| ${newest.tag} +\\| \\S+ +\\| PENDING`));
    expect(result.stdout).toContain(`not applied: ${newest.tag}; run npm run db:migrate`);
  });

  it("a database it cannot reach exits 1 without printing the password; usage errors exit 2", async () => {
    const result = await status("--database-url", "postgres://someone:hunter2@127.0.0.1:1/nothing");
    expect(result.code).toBe(1);
    expect(`${result.stdout}${result.stderr}`).not.toContain("hunter2");
    expect((await status("--bogus")).code).toBe(2);
    expect((await status("--help")).stdout).toContain("Usage: npm run db:status");
  });
});
