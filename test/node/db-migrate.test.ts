import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { FUNCTION_FILES, readJournal } from "../../scripts/lib/migrations.ts";
import { testDatabaseUrl, withDatabase } from "./postgres.ts";

const run = promisify(execFile);
const admin = testDatabaseUrl();
const name = `tollgate_migrate_${Date.now().toString(36)}`;
const url = (() => {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
})();

const migrate = (...args: string[]) =>
  run(process.execPath, ["scripts/db-migrate.ts", "--database-url", url, ...args], { encoding: "utf8" });

describe("npm run db:migrate", () => {
  afterAll(() => withDatabase(admin, (c) => c.query(`drop database if exists "${name}" with (force)`)));

  it("two concurrent runs apply every migration and function file exactly once, then a third applies nothing", async () => {
    const [a, b] = await Promise.all([migrate("--create-database"), migrate("--create-database")]);
    const lines = `${a.stdout}${b.stdout}`.split("\n");
    const applied = lines
      .filter((line) => line.startsWith("db:migrate: applied ") && !line.includes(" functions "))
      .map((line) => line.replace("db:migrate: applied ", ""));
    const tags = readJournal().map((e) => e.tag);
    expect(applied.sort()).toEqual([...tags].sort());
    const functions = lines
      .filter((line) => line.startsWith("db:migrate: applied functions "))
      .map((line) => line.replace("db:migrate: applied functions ", ""));
    expect(functions).toEqual(FUNCTION_FILES.map((file) => `${file} (new)`));

    const again = await migrate();
    expect(again.stdout).toContain("up to date, nothing applied");
    const rows = await withDatabase(url, (c) =>
      c.query("select count(*)::int as n from drizzle.__drizzle_migrations"),
    );
    expect(rows.rows[0].n).toBe(tags.length);
    const recorded = await withDatabase(url, (c) =>
      c.query("select file, count(*)::int as n from drizzle.__tollgate_functions group by file"),
    );
    expect(Object.fromEntries(recorded.rows.map((r) => [r.file, r.n]))).toEqual(
      Object.fromEntries(FUNCTION_FILES.map((file) => [file, 1])),
    );
  });

  it("--help exits 0 and an unknown option exits 2 with the usage", async () => {
    const help = await migrate("--help");
    expect(help.stdout).toContain("Usage: npm run db:migrate");
    await expect(migrate("--bogus")).rejects.toMatchObject({ code: 2 });
  });

  it("a database that cannot be reached fails with exit 1 and no password in the output", async () => {
    const result = run(process.execPath, [
      "scripts/db-migrate.ts",
      "--database-url",
      "postgres://someone:hunter2@127.0.0.1:1/nothing",
    ]);
    await expect(result).rejects.toMatchObject({ code: 1 });
    const error = (await result.catch((e) => e)) as { stdout: string; stderr: string };
    expect(`${error.stdout}${error.stderr}`).not.toContain("hunter2");
  });
});
