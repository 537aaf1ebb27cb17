import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupBaseName, MANIFEST_FORMAT } from "../../scripts/lib/backup.ts";
import { isoWeek } from "../../scripts/lib/backup-retention.ts";
import { runMigrations } from "../../scripts/lib/migrate.ts";
import { readJournal } from "../../scripts/lib/migrations.ts";
import { testDatabaseUrl, withDatabase } from "./postgres.ts";

const admin = testDatabaseUrl();
const name = `tollgate_backup_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const url = (() => {
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
})();
const work = mkdtempSync(join(tmpdir(), "tollgate-backup-test-"));

type Result = { code: number; stdout: string; stderr: string };
const backup = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  new Promise<Result>((resolve) => {
    execFile(
      process.execPath,
      ["scripts/db-backup.ts", ...args],
      { encoding: "utf8", env },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

/** A migrated database with top-ups, a grant, a captured, a released and an open hold. */
async function seed() {
  await runMigrations(url, { createDatabase: true });
  await withDatabase(url, async (c) => {
    const a = (await c.query("select account_id from create_account('u1')")).rows[0].account_id;
    const b = (await c.query("select account_id from create_account('u2')")).rows[0].account_id;
    await c.query("select * from top_up($1, 1000, 'cs_test_1')", [a]);
    await c.query(`select * from grant_credits($1, 50, 'grant:1', '{"reason":"welcome"}')`, [b]);
    const captured = (await c.query("select hold_id from place_hold($1, 300, 'job:1')", [a])).rows[0].hold_id;
    await c.query("select * from capture_hold($1, 200)", [captured]);
    const released = (await c.query("select hold_id from place_hold($1, 100, 'job:2')", [a])).rows[0].hold_id;
    await c.query("select * from release_hold($1)", [released]);
    await c.query("select * from place_hold($1, 10, 'job:3')", [b]);
  });
}

/** A manifest and a stand-in dump, as db:backup would leave them, for retention tests. */
function fakeBackup(dir: string, database: string, time: Date) {
  const base = backupBaseName(database, time);
  const dump = Buffer.from(`not a real dump ${base}`);
  writeFileSync(join(dir, `${base}.dump`), dump);
  const manifest = {
    format: MANIFEST_FORMAT,
    database,
    time: time.toISOString(),
    server_time: time.toISOString(),
    server: { version: "15.20", major: 15 },
    pg_dump: { version: "15.20", major: 15 },
    snapshot: null,
    migration: { tag: null, when: null, applied: 0 },
    tables: {},
    ledger_totals: null,
    dump: {
      file: `${base}.dump`,
      bytes: dump.length,
      sha256: createHash("sha256").update(dump).digest("hex"),
    },
  };
  writeFileSync(join(dir, `${base}.manifest.json`), JSON.stringify(manifest));
  return base;
}

const backupsIn = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".manifest.json"))
    .map((f) => f.replace(".manifest.json", ""))
    .sort();

describe("npm run db:backup", () => {
  beforeAll(seed);
  afterAll(async () => {
    await withDatabase(admin, (c) => c.query(`drop database if exists "${name}" with (force)`));
    rmSync(work, { recursive: true, force: true });
  });

  it("writes a custom-format dump and a manifest with exact row counts, ledger totals, level and SHA-256", async () => {
    const out = join(work, "backup");
    const result = await backup(["--database-url", url, "--out", out]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\| pg_dump --format=custom +\| PASS/);
    expect(result.stdout).toContain("db:backup: OK");

    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const [dumpFile, manifestFile] = files as [string, string];
    expect(dumpFile).toMatch(new RegExp(`^tollgate-${name}-\\d{8}T\\d{6}Z\\.dump$`));
    expect(manifestFile).toBe(dumpFile.replace(/\.dump$/, ".manifest.json"));
    expect(statSync(join(out, dumpFile)).mode & 0o077).toBe(0);

    const manifest = JSON.parse(readFileSync(join(out, manifestFile), "utf8"));
    const dump = readFileSync(join(out, dumpFile));
    expect(dump.subarray(0, 5).toString()).toBe("PGDMP"); // the custom format's magic
    expect(manifest.dump).toEqual({
      file: dumpFile,
      bytes: dump.length,
      sha256: createHash("sha256").update(dump).digest("hex"),
    });
    expect(manifest.snapshot).toEqual(expect.any(String));
    expect(manifest.pg_dump.major).toBeGreaterThanOrEqual(manifest.server.major);

    // What the database has applied (the journal may grow while the tests run).
    const applied = await withDatabase(url, (c) =>
      c.query("select max(created_at)::text as newest, count(*)::int as n from drizzle.__drizzle_migrations"),
    );
    const newest = Number(applied.rows[0].newest);
    expect(manifest.migration).toEqual({
      tag: readJournal().find((e) => e.when === newest)?.tag,
      when: newest,
      applied: applied.rows[0].n,
    });
    expect(manifest.migration.tag).toMatch(/^\d{4}_/);

    const expected = await withDatabase(url, async (c) => {
      const tables = (
        await c.query(
          "select schemaname || '.' || tablename as t from pg_tables where schemaname in ('public', 'drizzle')",
        )
      ).rows.map((r) => r.t as string);
      const counts: Record<string, number> = {};
      for (const t of tables) {
        const [schema, table] = t.split(".");
        counts[t] = (await c.query(`select count(*)::int as n from "${schema}"."${table}"`)).rows[0].n;
      }
      const totals = (
        await c.query(`select sum(debits_pending)::text as debits_pending, sum(debits_posted)::text as debits_posted,
          sum(credits_pending)::text as credits_pending, sum(credits_posted)::text as credits_posted from ledger_accounts`)
      ).rows[0];
      return { counts, totals };
    });
    expect(manifest.tables).toEqual(expected.counts);
    expect(manifest.tables["public.transfers"]).toBe(7); // top-up, grant, three holds, a capture, a release
    expect(manifest.tables["public.accounts"]).toBe(2);
    expect(manifest.ledger_totals).toEqual(expected.totals);
    expect(manifest.ledger_totals).toMatchObject({ debits_pending: "10", credits_posted: "1250" });
  });

  it("retention keeps the newest per day, ISO week and month by manifest time; --dry-run deletes nothing", async () => {
    const dir = join(work, "retention");
    mkdirSync(dir);
    const start = Date.UTC(2026, 0, 1, 2); // 2026-01-01T02:00Z, a Thursday
    const all: string[] = [];
    for (let d = 0; d < 100; d++) all.push(fakeBackup(dir, "app", new Date(start + d * 86_400_000)));
    all.push(fakeBackup(dir, "app", new Date("2026-04-10T14:00:00Z"))); // a second one on the last day
    // Another database's backups in the same directory follow their own schedule.
    fakeBackup(dir, "other", new Date("2026-01-05T02:00:00Z"));
    fakeBackup(dir, "other", new Date("2026-01-06T02:00:00Z"));
    expect(all).toHaveLength(101);
    expect(isoWeek(new Date("2026-04-10T14:00:00Z"))).toBe("2026-W15");
    expect(isoWeek(new Date("2026-01-01T00:00:00Z"))).toBe("2026-W01");
    expect(isoWeek(new Date("2027-01-01T00:00:00Z"))).toBe("2026-W53");

    const at = (iso: string) => backupBaseName("app", new Date(iso));
    const expected = [
      // daily 7: the newest of each of the last 7 days
      at("2026-04-10T14:00:00Z"),
      ...["09", "08", "07", "06", "05", "04"].map((d) => at(`2026-04-${d}T02:00:00Z`)),
      // weekly 4: W15 and W14 are covered above (Apr 10, Apr 5); W13 ends Sun Mar 29, W12 Sun Mar 22
      at("2026-03-29T02:00:00Z"),
      at("2026-03-22T02:00:00Z"),
      // monthly 6: April is covered; March, February, January (only four months exist)
      at("2026-03-31T02:00:00Z"),
      at("2026-02-28T02:00:00Z"),
      at("2026-01-31T02:00:00Z"),
      backupBaseName("other", new Date("2026-01-05T02:00:00Z")),
      backupBaseName("other", new Date("2026-01-06T02:00:00Z")),
    ].sort();
    const before = readdirSync(dir).sort();

    const dry = await backup(["--prune-only", "--dry-run", "--out", dir]);
    expect(dry.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(before);
    const wouldDelete = dry.stdout.split("\n").filter((l) => l.includes("would delete tollgate-"));
    expect(wouldDelete).toHaveLength(101 - 12);
    expect(dry.stdout).toMatch(/kept 14, would delete 89/);

    const real = await backup(["--prune-only", "--out", dir]);
    expect(real.code).toBe(0);
    expect(backupsIn(dir)).toEqual(expected);
    expect(readdirSync(dir)).toHaveLength(expected.length * 2); // each dump went with its manifest

    // Configurable: one day, no weeks, two months.
    const tight = await backup([
      "--prune-only",
      "--out",
      dir,
      "--keep-daily",
      "1",
      "--keep-weekly",
      "0",
      "--keep-monthly",
      "2",
    ]);
    expect(tight.code).toBe(0);
    expect(backupsIn(dir)).toEqual(
      [
        at("2026-04-10T14:00:00Z"),
        at("2026-03-31T02:00:00Z"),
        backupBaseName("other", new Date("2026-01-06T02:00:00Z")),
      ].sort(),
    );
  });

  it("never deletes the backup it just made, even when newer ones exist", async () => {
    const out = join(work, "protect");
    mkdirSync(out);
    const future = fakeBackup(out, name, new Date("2099-01-01T00:00:00Z"));
    const result = await backup([
      "--database-url",
      url,
      "--out",
      out,
      "--keep-daily",
      "0",
      "--keep-weekly",
      "0",
      "--keep-monthly",
      "0",
    ]);
    expect(result.code).toBe(0);
    const kept = backupsIn(out);
    expect(kept).toHaveLength(2);
    expect(kept).toContain(future);
    expect(result.stdout).toMatch(/keep +tollgate-\S+ \(just made\)/);
  });

  it("fails with a clear message and exit 1 when pg_dump is not on PATH, writing nothing", async () => {
    const empty = join(work, "empty-bin");
    const out = join(work, "no-pg-dump");
    mkdirSync(empty);
    const result = await backup(["--database-url", url, "--out", out], { ...process.env, PATH: empty });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("pg_dump not found on PATH");
    expect(result.stdout).toContain("--pg-bin");
    expect(result.stdout).toMatch(/\| pg_dump installed +\| FAIL/);
    expect(result.stdout).toContain("db:backup: FAILED");
    expect(() => readdirSync(out)).toThrow(); // not even the directory
  });

  it("refuses before dumping when pg_dump is older than the server, naming both versions and the fix", async () => {
    const bin = join(work, "old-bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "pg_dump"), '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.22"\n');
    chmodSync(join(bin, "pg_dump"), 0o755);
    const out = join(work, "old-pg-dump");
    const result = await backup(["--database-url", url, "--out", out, "--pg-bin", bin]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/pg_dump 12\.22 is older than the server \(PostgreSQL 1\d\.\d+\)/);
    expect(result.stdout).toMatch(/postgresql-client-1\d|--pg-bin \/usr\/lib\/postgresql/);
    expect(() => readdirSync(out)).toThrow();
  });

  it("--help exits 0; a bad option or retention count exits 2; no password is printed", async () => {
    const help = await backup(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: npm run db:backup");
    expect((await backup(["--bogus"])).code).toBe(2);
    expect((await backup(["--prune-only", "--keep-daily", "-1"])).code).toBe(2);
    const unreachable = await backup([
      "--database-url",
      "postgres://someone:hunter2@127.0.0.1:1/nothing",
      "--out",
      work,
    ]);
    expect(unreachable.code).toBe(1);
    expect(`${unreachable.stdout}${unreachable.stderr}`).not.toContain("hunter2");
  });
});
