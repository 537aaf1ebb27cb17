#!/usr/bin/env node
// npm run bench: Tollgate under load on this machine, in one run, as ratios between rows of that run.
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { parseCli } from "../scripts/lib/args.ts";
import { runMigrations } from "../scripts/lib/migrate.ts";
import { sqlClientOf } from "../scripts/lib/sql-client.ts";
import {
  closeAllStacks,
  dropDatabase,
  ROOT,
  startLocalStack,
  withClient,
  withDatabaseName,
} from "../scripts/lib/stack.ts";
import { checkInvariants } from "../src/ledger/index.ts";
import { buildBundle } from "./lib/bundle.ts";
import {
  type BenchResults,
  type BenchRun,
  fixed,
  rotation,
  run,
  type StatementEntry,
} from "./lib/context.ts";
import { createAccounts } from "./lib/fixtures.ts";
import { createLogTally } from "./lib/log-tally.ts";
import { describeMachine } from "./lib/machine.ts";
import { dbHotAccount, dbPhase } from "./lib/phase-db.ts";
import { endToEndPhase } from "./lib/phase-e2e.ts";
import { httpPhase } from "./lib/phase-http.ts";
import { evaluateBudgets, renderMarkdown } from "./lib/report.ts";

const SECTIONS = ["http", "hot-account", "e2e", "db", "bundle"];

const { values } = parseCli({
  usage: `
Usage: npm run bench [-- options]

Starts a private local stack on this machine's Postgres (a fresh database, the local Neon server,
wrangler dev on the bundle \`wrangler deploy\` would upload, on free ports) and measures, in one run:
  http         latency p50/p99 and req/s with autocannon at concurrency 1, 8 and 32 for GET /api/health,
               a select-1 baseline route, POST /api/jobs (fresh keys and replays) and the Stripe webhook
               (fresh and duplicate events), with database statements per request
  hot-account  POST /api/jobs at c=32 on one account against the same load over many accounts (HTTP and SQL)
  e2e          jobs/s from submit to succeeded through the queue consumer
  db           Tollgate's create → claim → complete cycle against graphile-worker's, same Postgres, 8 connections
  bundle       the Worker bundle's gzip size
then checks the budgets and writes bench/results/latest.json and latest.md.

Options:
  --quick                  shorter rows (2 s) and fewer end-to-end jobs
  --seconds <n>            seconds per HTTP row (default 5; --quick: 2)
  --only <a,b>             sections to run: ${SECTIONS.join(", ")} (default: all)
  --hot-account            same as --only hot-account
  --database-url <url>     Postgres to create the bench databases on
                           (default: $BENCH_DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres)
  --out <dir>              where to write the results (default bench/results)
  --keep                   keep the bench databases afterwards
`,
  options: {
    quick: { type: "boolean", default: false },
    seconds: { type: "string" },
    only: { type: "string" },
    "hot-account": { type: "boolean", default: false },
    "database-url": { type: "string" },
    out: { type: "string", default: join(ROOT, "bench", "results") },
    keep: { type: "boolean", default: false },
  },
});

const quick = Boolean(values.quick);
const seconds = Number(values.seconds ?? (quick ? 2 : 5));
const only = new Set(
  values["hot-account"] ? ["hot-account"] : values.only ? String(values.only).split(",") : SECTIONS,
);
for (const section of only) {
  if (!SECTIONS.includes(section)) {
    process.stderr.write(`unknown section ${section}; one of ${SECTIONS.join(", ")}\n`);
    process.exit(2);
  }
}
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) {
  process.stderr.write("--seconds must be between 0 and 60\n");
  process.exit(2);
}
const CONCURRENCIES = [1, 8, 32];
const HOT_CONNECTIONS = 32;
const DB_CONNECTIONS = 8;
const E2E_JOBS = quick ? 200 : 600;
const E2E_CONNECTIONS = 8;
const adminUrl = String(
  values["database-url"] ?? process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
);

const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const database = `tollgate_bench_${runId}`;
const graphileDatabase = `tollgate_bench_gw_${runId}`;
const databaseUrl = withDatabaseName(adminUrl, database);
const graphileUrl = withDatabaseName(adminUrl, graphileDatabase);
const workDir = mkdtempSync(join(os.tmpdir(), "tollgate-bench-"));

/** Bench-only values: nothing here is a secret worth protecting, but they still go through a file. */
const ADMIN_TOKEN = `bench-admin-${randomUUID()}`;
const WEBHOOK_SECRET = `whsec_bench_${randomUUID().replaceAll("-", "")}`;
const JOB_BODY = JSON.stringify({ type: "echo", input: { message: "bench" } });
const CREDITS = 1_000_000_000;

const log = (line: string) => process.stdout.write(`bench: ${line}\n`);

const cleanups: Array<() => Promise<void>> = [];
let cleaning = false;
async function cleanup() {
  if (cleaning) return;
  cleaning = true;
  await closeAllStacks();
  for (const fn of cleanups.reverse()) await fn().catch((e) => log(`cleanup: ${e.message}`));
  rmSync(workDir, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    cleanup().finally(() => process.exit(130));
  });
}

const results: BenchResults = {
  generatedAt: new Date().toISOString(),
  options: { quick, seconds, concurrencies: CONCURRENCIES, sections: [...only] },
  http: [],
  statements: {},
  singles: [],
  notes: [],
};

/**
 * wrangler dev on the prebuilt bundle over the bench database (already migrated), the local Neon
 * server in a process of its own, no Stripe; ready once /api/ready is ok (database reachable, schema
 * at the latest migration, config valid), with every line the Worker logs tallied.
 */
const startStack: BenchRun["startStack"] = async ({ script, name, role, vars }) => {
  const tally = createLogTally();
  const stack = await startLocalStack({
    database: { kind: "url", url: databaseUrl, migrate: false },
    neon: "child",
    stripe: false,
    allowOwnOrigin: false,
    adminToken: ADMIN_TOKEN,
    betterAuthSecret: `bench-auth-secret-${randomUUID()}`,
    webhookSecret: WEBHOOK_SECRET,
    script,
    role,
    name,
    workDir,
    vars,
    onOutput: (line) => tally.add(line),
    waitFor: "ready",
  });
  return { stack, tally };
};

Object.assign(run, {
  results,
  log,
  quick,
  seconds,
  only,
  workDir,
  keep: Boolean(values.keep),
  adminUrl,
  database,
  databaseUrl,
  graphileDatabase,
  graphileUrl,
  cleanups,
  adminToken: ADMIN_TOKEN,
  webhookSecret: WEBHOOK_SECRET,
  jobBody: JOB_BODY,
  credits: CREDITS,
  concurrencies: CONCURRENCIES,
  hotConnections: HOT_CONNECTIONS,
  dbConnections: DB_CONNECTIONS,
  e2eJobs: E2E_JOBS,
  e2eConnections: E2E_CONNECTIONS,
  startStack,
  addStatements,
} satisfies BenchRun);

async function main() {
  results.machine = await describeMachine(adminUrl);
  const m = results.machine;
  log(`${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB; load average ${m.loadAverageAtStart.join(" / ")}`);
  log(
    `node ${m.versions.node}, wrangler ${m.versions.wrangler}, Postgres ${m.versions.postgres}, autocannon ${m.versions.autocannon}, graphile-worker ${m.versions.graphileWorker}`,
  );

  log("building the bundle (wrangler deploy --dry-run --outdir)");
  const bundle = await buildBundle(join(workDir, "bundle"));
  if (only.has("bundle")) {
    results.bundle = {
      bytes: bundle.bytes,
      gzipBytes: bundle.gzipBytes,
      wranglerReported: bundle.wranglerReported,
    };
    log(`bundle ${fixed(bundle.bytes / 1024, 0)} KiB, gzip ${fixed(bundle.gzipBytes / 1024, 0)} KiB`);
  }

  log(`creating ${database} and migrating`);
  cleanups.push(async () => {
    if (values.keep) log(`kept ${database}`);
    else await dropDatabase(adminUrl, database);
  });
  await runMigrations(databaseUrl, { createDatabase: true });
  // Per-function call counts for the end-to-end phase (pg_stat_user_functions); set before any
  // connection opens, since the setting is read at connection start.
  await withClient(adminUrl, (c) => c.query(`alter database "${database}" set track_functions = 'pl'`));

  // The main account is the "one account topped up with plenty of credits". It gets many keys because
  // POST /api/jobs is limited per key (600 a minute) and its rows together send more than that.
  const [main] = await createAccounts(databaseUrl, { accounts: 1, keysPerAccount: 120 });
  if (!main) throw new Error("no account");
  const mainKey = rotation(main.keys);
  const spread = await createAccounts(databaseUrl, { accounts: HOT_CONNECTIONS, keysPerAccount: 4 });
  const spreadKeys = spread.map((a) => a.keys);

  if (only.has("http") || only.has("hot-account")) {
    await httpPhase(bundle.file, { main, mainKey, spread, spreadKeys });
  }
  if (only.has("e2e")) await endToEndPhase(bundle.file);
  if (only.has("db")) await dbPhase(spread);
  if (only.has("hot-account")) await dbHotAccount(main, spread);

  const ledger = await withClient(databaseUrl, async (c) => {
    const report = await checkInvariants(sqlClientOf(c));
    const broken = report.invariants.filter((r) => !r.ok).map((r) => `${r.invariant}: ${r.detail}`);
    return { ok: broken.length === 0, broken };
  });
  results.ledger = ledger;
  log(`ledger_check(): ${ledger.ok ? "all invariants hold" : ledger.broken.join("; ")}`);
}

function addStatements(
  name: string,
  statements: number,
  requests: number,
  extra: { unit?: string; note?: string } = {},
) {
  const entry: StatementEntry = results.statements[name] ?? { statements: 0, requests: 0, perRequest: null };
  entry.statements += statements;
  entry.requests += requests;
  entry.perRequest = entry.requests > 0 ? entry.statements / entry.requests : null;
  Object.assign(entry, extra);
  results.statements[name] = entry;
}

let exitCode = 0;
try {
  await main();
  if (results.machine) results.machine.loadAverageAtEnd = os.loadavg().map((n) => Math.round(n * 100) / 100);
  results.budgets = evaluateBudgets(results);
  const markdown = renderMarkdown(results);
  const out = String(values.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, "latest.md"), markdown);
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${join(out, "latest.json")} and latest.md`);
  if (results.budgets.some((b) => b.pass === false)) exitCode = 1;
} catch (error) {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
