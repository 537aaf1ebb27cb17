// Shared by db:backup and db:verify-restore: the manifest, pg_dump/pg_restore, and what both measure
// (row counts per table, migration level, ledger totals) so a restore can be compared with its source.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type pg from "pg";
import { appliedLevels, readJournal } from "./migrations.ts";
import type { Row } from "./report-table.ts";

export const MANIFEST_FORMAT = "tollgate-backup-manifest/1";
export const MANIFEST_SUFFIX = ".manifest.json";
export const DUMP_SUFFIX = ".dump";
export const LEDGER_COLUMNS = [
  "debits_pending",
  "debits_posted",
  "credits_pending",
  "credits_posted",
] as const;

export type PgTool = "pg_dump" | "pg_restore";
export type PgVersion = { version: string; major: number };
export type MigrationLevel = { tag: string | null; when: number | null; applied: number };
export type LedgerTotals = Record<(typeof LEDGER_COLUMNS)[number], string>;

export type Manifest = {
  format: string;
  database: string;
  time: string;
  server_time: string | null;
  server: PgVersion;
  pg_dump: PgVersion;
  snapshot: string | null;
  migration: MigrationLevel;
  tables: Record<string, number>;
  ledger_totals: LedgerTotals | null;
  dump: { file: string; bytes: number; sha256: string };
};

function parseUrl(databaseUrl: string): URL {
  try {
    return new URL(databaseUrl);
  } catch {
    throw new Error("the connection string must be a URL: postgres://user:password@host:port/database");
  }
}

/** The database a URL names (libpq's default when it names none: the user name). */
export function databaseName(databaseUrl: string): string {
  const url = parseUrl(databaseUrl);
  return decodeURIComponent(url.pathname.slice(1)) || decodeURIComponent(url.username) || "postgres";
}

/** The same server and credentials, another database. */
export function withDatabaseName(databaseUrl: string, name: string): string {
  const url = parseUrl(databaseUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * What pg_dump/pg_restore get: the URL without its password, which goes in PGPASSWORD instead, so it
 * never appears on a command line (visible to every user in `ps`).
 */
export function libpqConnection(databaseUrl: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const url = parseUrl(databaseUrl);
  const env = { ...process.env };
  if (url.password) {
    env.PGPASSWORD = decodeURIComponent(url.password);
    url.password = "";
  }
  return { dbname: url.toString(), env };
}

export function missingToolMessage(tool: PgTool, pgBin: string | undefined): string {
  return (
    `${tool} not found ${pgBin ? `in ${pgBin}` : "on PATH"}. Install the PostgreSQL client tools of the ` +
    "server's major version or newer (Debian/Ubuntu: apt-get install postgresql-client-<major>; macOS: " +
    `brew install postgresql@<major>) and put them on PATH, or pass --pg-bin <directory holding ${tool}>`
  );
}

/** Runs pg_dump or pg_restore. Rejects with a clear message when the tool is not installed. */
export function runPgTool(
  tool: PgTool,
  args: string[],
  {
    pgBin,
    env,
    signal,
  }: { pgBin?: string | undefined; env?: NodeJS.ProcessEnv; signal?: AbortSignal | undefined } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const command = pgBin ? join(pgBin, tool) : tool;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      signal,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") reject(new Error(missingToolMessage(tool, pgBin)));
      else if (error.name === "AbortError") reject(new Error(`${tool} interrupted`));
      else reject(error);
    });
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** The last lines of a tool's stderr, for an error message. */
export function tail(text: string, lines = 6): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** "pg_dump (PostgreSQL) 15.20 (Debian ...)" → { version: "15.20", major: 15 }. */
export function parsePgVersion(text: string): PgVersion | null {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return null;
  const major = match[1] as string;
  return { version: match[2] ? `${major}.${match[2]}` : major, major: Number(major) };
}

export async function pgToolVersion(tool: PgTool, pgBin: string | undefined): Promise<PgVersion> {
  const { code, stdout, stderr } = await runPgTool(tool, ["--version"], { pgBin });
  const version = code === 0 ? parsePgVersion(stdout) : null;
  if (!version) throw new Error(`${tool} --version failed: ${tail(stderr || stdout) || `exit ${code}`}`);
  return version;
}

/** Where Debian and Ubuntu install each major version's client tools. */
function debianBinDir(major: number): string | null {
  const dir = `/usr/lib/postgresql/${major}/bin`;
  return existsSync(join(dir, "pg_dump")) ? dir : null;
}

/** pg_dump refuses to dump a server of a newer major version; say so before trying, with the fix. */
export function dumpVersionProblem(pgDump: PgVersion, server: PgVersion): string | null {
  if (pgDump.major >= server.major) return null;
  const installed = debianBinDir(server.major);
  return (
    `pg_dump ${pgDump.version} is older than the server (PostgreSQL ${server.version}): pg_dump refuses to ` +
    `dump a newer major version. ${
      installed
        ? `pg_dump ${server.major} is installed in ${installed}: pass --pg-bin ${installed}`
        : `Install the PostgreSQL ${server.major} client tools (Debian/Ubuntu: apt-get install ` +
          `postgresql-client-${server.major}; macOS: brew install postgresql@${server.major}) and put them ` +
          "first on PATH or pass --pg-bin <their bin directory>"
    }`
  );
}

export async function serverVersion(client: pg.ClientBase): Promise<PgVersion> {
  const { rows } = await client.query<{ version: string; num: number }>(
    "select current_setting('server_version') as version, current_setting('server_version_num')::int as num",
  );
  const row = rows[0] as { version: string; num: number };
  return { version: String(row.version).split(" ")[0] as string, major: Math.floor(row.num / 10000) };
}

/**
 * Exact row counts of every user table (every schema but the system ones; extension-owned tables,
 * which pg_dump leaves out, excluded), in one statement: `query_to_xml` runs a count per table.
 */
export async function tableRowCounts(client: pg.ClientBase): Promise<Record<string, number>> {
  const { rows } = await client.query<{ name: string; n: string }>(`
    select format('%s.%s', n.nspname, c.relname) as name,
      (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from %I.%I', n.nspname, c.relname),
        false, true, '')))[1]::text::bigint::text as n
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p') and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
      and not exists (
        select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e'
      )
    order by 1`);
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

/**
 * Σ of the four running totals over all ledger accounts (as decimal strings: the sums can pass 2^53),
 * or null when the database has no ledger yet.
 */
export async function ledgerTotals(client: pg.ClientBase): Promise<LedgerTotals | null> {
  const { rows } = await client.query<{ present: boolean }>(
    "select to_regclass('public.ledger_accounts') is not null as present",
  );
  if (!rows[0]?.present) return null;
  const sums = LEDGER_COLUMNS.map((c) => `coalesce(sum(${c}), 0)::text as ${c}`).join(", ");
  const result = await client.query<LedgerTotals>(`select ${sums} from public.ledger_accounts`);
  return result.rows[0] as LedgerTotals;
}

/** The newest applied migration (its journal tag when this checkout knows it) and how many are applied. */
export async function migrationLevel(client: pg.ClientBase): Promise<MigrationLevel> {
  const levels = await appliedLevels(client);
  if (levels.length === 0) return { tag: null, when: null, applied: 0 };
  const when = Math.max(...levels);
  const tag = readJournal().find((e) => e.when === when)?.tag ?? null;
  return { tag, when, applied: levels.length };
}

export function describeMigration(m: MigrationLevel): string {
  if (m.when === null) return "no migrations applied";
  return `${m.tag ?? `unknown to this checkout (created_at ${m.when})`}, ${m.applied} applied`;
}

export function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let bytes = 0;
    createReadStream(path)
      .on("data", (chunk) => {
        // No encoding was given, so every chunk is a Buffer.
        hash.update(chunk);
        bytes += chunk.length;
      })
      .on("error", reject)
      .on("end", () => resolve({ sha256: hash.digest("hex"), bytes }));
  });
}

/** Flushes a file (or, for a directory, its entries: a rename) to disk. Best effort where unsupported. */
export function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes under a temporary name and renames, so the file is either complete or absent. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
  await writeFile(temp, text, { mode: 0o600 });
  fsyncPath(temp);
  renameSync(temp, path);
  fsyncPath(dirname(path));
}

/** tollgate-<db>-<UTC timestamp>, e.g. tollgate-app-20260102T030405Z */
export function backupBaseName(database: string, time: Date): string {
  const stamp = time
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}Z$/, "Z");
  return `tollgate-${database.replace(/[^A-Za-z0-9_-]+/g, "_")}-${stamp}`;
}

/** The manifest and dump of a backup, given either file's path. */
export function backupPaths(path: string): { manifestPath: string; dumpPath: string | null } {
  if (path.endsWith(MANIFEST_SUFFIX)) return { manifestPath: path, dumpPath: null };
  if (path.endsWith(DUMP_SUFFIX))
    return { manifestPath: `${path.slice(0, -DUMP_SUFFIX.length)}${MANIFEST_SUFFIX}`, dumpPath: path };
  throw new Error(`--backup must name a ${DUMP_SUFFIX} file or its ${MANIFEST_SUFFIX}: ${path}`);
}

/** What is wrong with a parsed manifest, or null. */
function manifestProblem(value: unknown): string | null {
  // biome-ignore lint/suspicious/noExplicitAny: every field is checked below before it is trusted
  const m = value as any;
  if (!m || typeof m !== "object") return "not a JSON object";
  if (m.format !== MANIFEST_FORMAT)
    return `format is ${JSON.stringify(m.format)}, expected "${MANIFEST_FORMAT}"`;
  if (typeof m.database !== "string" || !m.database) return "no database name";
  if (typeof m.time !== "string" || Number.isNaN(Date.parse(m.time))) return "time is not a timestamp";
  if (!m.server || !Number.isInteger(m.server.major)) return "no server version";
  if (!m.pg_dump || !Number.isInteger(m.pg_dump.major)) return "no pg_dump version";
  if (!m.migration || !Number.isInteger(m.migration.applied)) return "no migration level";
  if (!m.tables || typeof m.tables !== "object") return "no table row counts";
  for (const [table, n] of Object.entries(m.tables))
    if (!Number.isSafeInteger(n) || (n as number) < 0) return `row count of ${table} is not a count`;
  if (m.ledger_totals !== null) {
    if (!m.ledger_totals || typeof m.ledger_totals !== "object")
      return "ledger_totals is neither null nor totals";
    for (const c of LEDGER_COLUMNS)
      if (!/^\d+$/.test(String(m.ledger_totals[c]))) return `ledger_totals.${c} is not a number`;
  }
  const d = m.dump;
  if (!d || typeof d.file !== "string" || d.file !== basename(d.file) || !d.file.endsWith(DUMP_SUFFIX))
    return "dump.file is not a dump file name";
  if (!Number.isSafeInteger(d.bytes) || d.bytes <= 0) return "dump.bytes is not a size";
  if (!/^[0-9a-f]{64}$/.test(String(d.sha256))) return "dump.sha256 is not a SHA-256";
  return null;
}

/** Reads and checks a manifest; throws naming the file and what is wrong. */
export function readManifest(path: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new Error(
      e.code === "ENOENT" ? `no manifest at ${path}` : `manifest ${path} is not readable JSON: ${e.message}`,
    );
  }
  const problem = manifestProblem(value);
  if (problem) throw new Error(`manifest ${path} is invalid: ${problem}`);
  return value as Manifest;
}

/** "12.3 MB": sizes in progress lines. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/**
 * While a long pg_dump or pg_restore runs, logs how far it got every `everyMs` (a dump of a large
 * database takes minutes and prints nothing itself). Returns the function that stops it.
 */
export function progressTicker(
  log: (line: string) => void,
  progress: () => Promise<string>,
  everyMs = 10_000,
): () => void {
  const started = Date.now();
  let busy = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    progress()
      .catch(() => "")
      .then((detail) => {
        if (stopped) return;
        const seconds = Math.round((Date.now() - started) / 1000);
        log(`  ... ${seconds} s${detail ? `, ${detail}` : ""}`);
      })
      .finally(() => {
        busy = false;
      });
  }, everyMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** The failed rows of a report on one line ("check: why; ..."), or null when none failed. */
export function failureSummary(rows: readonly Row[]): string | null {
  const failed = rows.filter((r) => r.result === "fail");
  if (failed.length === 0) return null;
  return failed.map((r) => `${r.check}: ${r.detail}`.replace(/\s*\n\s*/g, " / ")).join("; ");
}
