import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runMigrations } from "../../scripts/lib/migrate.ts";
import { testDatabaseUrl, withDatabase } from "./postgres.ts";

const admin = testDatabaseUrl();
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const name = `tollgate_vr_${runId}`;
const withName = (db: string) => {
  const u = new URL(admin);
  u.pathname = `/${db}`;
  return u.toString();
};
const url = withName(name);
const work = mkdtempSync(join(tmpdir(), "tollgate-verify-test-"));
/** Databases a test may leave behind on failure; dropped in afterAll. */
const targets: string[] = [];
const target = (label: string) => {
  const db = `tollgate_vr_${runId}_${label}`;
  targets.push(db);
  return db;
};

type Result = { code: number; stdout: string; stderr: string };
const node = (script: string, args: string[]) =>
  new Promise<Result>((resolve) => {
    execFile(process.execPath, [script, ...args], { encoding: "utf8" }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
const verify = (...args: string[]) => node("scripts/db-verify-restore.ts", args);
const databaseExists = (db: string) =>
  withDatabase(
    admin,
    async (c) => (await c.query("select 1 from pg_database where datname = $1", [db])).rowCount === 1,
  );

let dumpPath = "";
let manifestPath = "";

/** A copy of the backup in its own directory, so a test can damage it. */
function copyBackup(label: string) {
  const dir = join(work, label);
  mkdirSync(dir);
  const dump = join(dir, dumpPath.split("/").at(-1) as string);
  const manifest = join(dir, manifestPath.split("/").at(-1) as string);
  copyFileSync(dumpPath, dump);
  copyFileSync(manifestPath, manifest);
  return { dump, manifest, json: JSON.parse(readFileSync(manifest, "utf8")) };
}

describe("npm run db:verify-restore", () => {
  beforeAll(async () => {
    await runMigrations(url, { createDatabase: true });
    await withDatabase(url, async (c) => {
      const a = (await c.query("select account_id from create_account('u1')")).rows[0].account_id;
      await c.query("select * from top_up($1, 500, 'cs_verify_1')", [a]);
      const hold = (await c.query("select hold_id from place_hold($1, 120, 'job:v1')", [a])).rows[0].hold_id;
      await c.query("select * from capture_hold($1, 100)", [hold]);
      await c.query("select * from place_hold($1, 30, 'job:v2')", [a]);
    });
    const out = join(work, "backups");
    const made = await node("scripts/db-backup.ts", ["--database-url", url, "--out", out]);
    expect(made.code, made.stdout).toBe(0);
    const [dump, manifest] = readdirSync(out).sort() as [string, string];
    dumpPath = join(out, dump);
    manifestPath = join(out, manifest);
  });

  afterAll(async () => {
    await withDatabase(admin, async (c) => {
      for (const db of [name, ...targets]) await c.query(`drop database if exists "${db}" with (force)`);
    });
    rmSync(work, { recursive: true, force: true });
  });

  it("restores a fresh backup into tollgate_verify_<random>, passes every check and drops the database", async () => {
    const result = await verify("--backup", dumpPath, "--database-url", url);
    expect(result.code, result.stdout).toBe(0);
    for (const check of [
      "dump size and SHA-256",
      "pg_restore can read the archive",
      "row counts per table",
      "migration level",
      "ledger invariants \\(ledger_check\\(\\)\\)",
      "ledger totals",
    ])
      expect(result.stdout).toMatch(new RegExp(`\\| ${check} +\\| PASS`));
    expect(result.stdout).toMatch(/I1\.posted.*I6/);
    expect(result.stdout).toContain("db:verify-restore: OK");
    const temp = /tollgate_verify_[0-9a-f]{8}/.exec(result.stdout)?.[0] as string;
    expect(temp).toBeTruthy();
    expect(result.stdout).toMatch(new RegExp(`\\| drop ${temp} +\\| PASS`));
    expect(await databaseExists(temp)).toBe(false);
  });

  it("--target-url and --keep leave the restored database in place (given the manifest path)", async () => {
    const db = target("keep");
    const result = await verify("--backup", manifestPath, "--target-url", withName(db), "--keep");
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("temporary database kept (--keep)");
    const transfers = await withDatabase(withName(db), (c) =>
      c.query("select count(*)::int as n from transfers"),
    );
    expect(transfers.rows[0].n).toBe(4);

    // An existing database that is not empty is refused, and left alone.
    const again = await verify("--backup", manifestPath, "--target-url", withName(db));
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("is not empty");
    expect(await databaseExists(db)).toBe(true);
  });

  it("a dump with one byte flipped fails the checksum before anything is restored", async () => {
    const copy = copyBackup("flipped");
    const bytes = readFileSync(copy.dump);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0x01;
    writeFileSync(copy.dump, bytes);
    const db = target("flipped");
    const result = await verify("--backup", copy.dump, "--target-url", withName(db));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("SHA-256 mismatch");
    expect(result.stdout).toContain("nothing was restored");
    expect(result.stdout).toMatch(/\| dump size and SHA-256 +\| FAIL/);
    expect(result.stdout).not.toContain("pg_restore can read the archive");
    expect(await databaseExists(db)).toBe(false);
  });

  /** Cuts the dump short and rewrites the manifest's size and SHA-256 to match, as a careless copy would. */
  function truncatedBackup(label: string, keep: (length: number) => number) {
    const copy = copyBackup(label);
    const whole = readFileSync(copy.dump);
    const bytes = whole.subarray(0, keep(whole.length));
    writeFileSync(copy.dump, bytes);
    copy.json.dump.bytes = bytes.length;
    copy.json.dump.sha256 = createHash("sha256").update(bytes).digest("hex");
    writeFileSync(copy.manifest, JSON.stringify(copy.json));
    return copy;
  }

  it("a dump truncated in its data, manifest fixed up to match, fails in pg_restore and the database is dropped", async () => {
    // The archive's table of contents comes first and the table data last: cutting the tail leaves a
    // readable table of contents, so the failure comes from the restore itself.
    const copy = truncatedBackup("truncated-tail", (length) => length - 16);
    const db = target("truncated_tail");
    const result = await verify("--backup", copy.dump, "--target-url", withName(db));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\| dump size and SHA-256 +\| PASS/);
    expect(result.stdout).toMatch(/\| pg_restore can read the archive +\| PASS/);
    expect(result.stdout).toMatch(
      /\| restore \(pg_restore[^|]*\| FAIL +\| pg_restore exited 1: pg_restore: error: could not read from input file: end of file/,
    );
    expect(result.stdout).toContain("truncated or corrupt");
    expect(result.stdout).not.toContain("row counts per table");
    expect(result.stdout).toMatch(new RegExp(`\\| drop ${db} +\\| PASS`));
    expect(result.stdout).toContain("db:verify-restore: FAILED");
    expect(await databaseExists(db)).toBe(false);
  });

  it("a dump truncated to 60%, manifest fixed up, fails before a database is created", async () => {
    const copy = truncatedBackup("truncated-half", (length) => Math.floor(length * 0.6));
    const db = target("truncated_half");
    const result = await verify("--backup", copy.dump, "--target-url", withName(db));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /\| pg_restore can read the archive +\| FAIL +\| the archive is unreadable \(truncated or corrupt\): pg_restore: error/,
    );
    expect(await databaseExists(db)).toBe(false);
  });

  it("a manifest whose row counts and ledger totals disagree fails, naming each difference", async () => {
    const copy = copyBackup("counts");
    copy.json.tables["public.transfers"] += 1;
    copy.json.ledger_totals.credits_posted = "1";
    writeFileSync(copy.manifest, JSON.stringify(copy.json));
    const db = target("counts");
    const result = await verify("--backup", copy.manifest, "--target-url", withName(db));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /\| row counts per table +\| FAIL +\| public\.transfers: restored 4, manifest 5/,
    );
    expect(result.stdout).toMatch(/\| ledger totals +\| FAIL +\| Σ credits_posted: restored 600, manifest 1/);
    expect(result.stdout).toMatch(/\| ledger invariants \(ledger_check\(\)\) +\| PASS/);
    expect(result.stdout).toMatch(/\| migration level +\| PASS/);
    expect(await databaseExists(db)).toBe(false);
  });

  it("a backup taken while top-ups keep landing still verifies: the manifest is read in the dump's snapshot", async () => {
    const out = join(work, "live");
    let writing = true;
    let written = 0;
    const writer = withDatabase(url, async (c) => {
      const account = (await c.query("select account_id from create_account('live')")).rows[0].account_id;
      while (writing) {
        await c.query("select * from top_up($1, 1, $2)", [account, `cs_live_${written}`]);
        written++;
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const made = await node("scripts/db-backup.ts", ["--database-url", url, "--out", out]);
    const during = written;
    writing = false;
    await writer;
    expect(made.code, made.stdout).toBe(0);
    expect(during).toBeGreaterThan(0);
    const dump = readdirSync(out).find((f) => f.endsWith(".dump")) as string;
    const result = await verify("--backup", join(out, dump), "--database-url", url);
    expect(result.code, result.stdout).toBe(0);
  });

  it("a missing manifest, a missing --backup and an unknown option fail clearly", async () => {
    const copy = copyBackup("no-manifest");
    rmSync(copy.manifest);
    const result = await verify("--backup", copy.dump, "--database-url", url);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/\| manifest +\| FAIL +\| no manifest at /);
    expect((await verify("--database-url", url)).code).toBe(2);
    expect((await verify("--bogus")).code).toBe(2);
    const help = await verify("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: npm run db:verify-restore");
  });
});
