#!/usr/bin/env node
// npm run go-live: the MVP go-live checklist as one command. Runs every line a machine can check and
// prints the checklist with ✔ / ✘ / manual / n/a and the reason for each. The operations commands it
// relies on (smoke, monitor, triage, db:*, stripe:webhook) run here as functions; only vitest and
// wrangler run as child processes.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { parseCli } from "./lib/args.ts";
import { backupDatabase } from "./lib/backup-run.ts";
import type { JsonObject } from "./lib/checks.ts";
import { checkCheckoutIdempotency } from "./lib/checks-billing.ts";
import {
  type ChecklistContext,
  checklistLines,
  type Line,
  type Outcome,
  type SecretSource,
  type Status,
  type VitestRun,
  type Workflow,
} from "./lib/checks-checklist.ts";
import {
  fileExists,
  listCloudflareSecrets,
  REQUIRED_SECRETS,
  readEnvFile,
  readWorkerConfigs,
  secretValueProblems,
  type Target,
} from "./lib/checks-config.ts";
import { bearer, describeAnswer, normalizeBaseUrl, request } from "./lib/http.ts";
import { runMigrations } from "./lib/migrate.ts";
import { connect, functionStatus, migrationStatus } from "./lib/migrations.ts";
import { runMonitor } from "./lib/monitor.ts";
import { formatTable, type Row } from "./lib/report-table.ts";
import { runSmoke } from "./lib/smoke.ts";
import { runStripeWebhook } from "./lib/stripe-webhook.ts";
import { describeProblem, runTriage } from "./lib/triage.ts";
import { verifyRestore } from "./lib/verify-restore.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `
Usage: npm run go-live -- --target local|staging|production [--url BASE] [--config FILE]
                          [--env-file FILE | --secrets-from-env] [--migrate] [--skip-live] [--skip-tests]

Runs every line of the go-live checklist (docs/GO_LIVE_CHECKLIST.md) that a machine can check and
prints the whole checklist: ✔ passed, ✘ failed, manual (needs a person; what could be checked passed),
n/a (does not apply to this target), skip (skipped on request), each with how it was checked or why not.

Checked: secrets set and not development defaults; origin allowlists (https, no localhost/null/*);
ALLOW_LOCALHOST_ORIGINS / ALLOW_NULL_ORIGIN; MVP_WORKER_ENABLED per role; LEGACY_QUEUE_WORKER_ENABLED;
a dead-letter queue on every consumer (all from wrangler.toml via unstable_readConfig); migrations
(db:status); a backup and its verified restore (db:backup to a temporary directory, db:verify-restore);
the Stripe webhook endpoint and its events (stripe:webhook --verify); the webhook replay test and the
checkout Idempotency-Key (local and staging only: they buy credits); /api/ready; smoke (POST /api/jobs
with the same key → the same job and one hold); monitor; triage; the playbook; the workflows; the
critical-path and billing-integrity tests.

Where secrets come from (named in the table):
  --secrets-from-env      this process's environment (values are checked too)
  --env-file FILE         a dotenv file (default for --target local: .data/dev.vars, which npm run dev
                          writes); values are checked too
  CLOUDFLARE_API_TOKEN    otherwise, for staging/production: wrangler secret list --env <each Worker>
                          (names only; in production /api/ready refuses development defaults)

Options:
  --target T          local, staging or production
  --url BASE          the deployment (default: $BACKEND_BASE_URL; local: http://127.0.0.1:8787)
  --config FILE       wrangler config (default: wrangler.toml)
  --migrate           apply pending migrations first (npm run db:migrate), as the deploy workflow does
  --skip-live         a first deploy: nothing runs yet, so the lines that need the API are "skip"
  --skip-tests        do not run the critical-path and billing-integrity tests (npm test ran them)
  -h, --help          show this help

Environment (values are never printed): DATABASE_URL (local: from the env file), SCRATCH_DATABASE_URL
(server for the restore test; required for production, default DATABASE_URL's server otherwise),
BACKEND_ADMIN_TOKEN (local: the env file's ADMIN_TOKEN), SMOKE_API_KEY (local and staging bootstrap a
smoke account when unset), STRIPE_SECRET_KEY (stripe:webhook --verify), STRIPE_WEBHOOK_SECRET (replay
test on staging), CLOUDFLARE_API_TOKEN.

Exit 0 when no line failed, 1 when one did, 2 on a usage error.
`;

const { values } = parseCli({
  usage: USAGE,
  options: {
    target: { type: "string" },
    url: { type: "string" },
    config: { type: "string" },
    "env-file": { type: "string" },
    "secrets-from-env": { type: "boolean" },
    migrate: { type: "boolean" },
    "skip-live": { type: "boolean" },
    "skip-tests": { type: "boolean" },
  },
});

function usageError(message: string): never {
  process.stderr.write(`go-live: ${message}\n${USAGE}`);
  process.exit(2);
}
const TARGETS: readonly string[] = ["local", "staging", "production"] satisfies Target[];
const target = (values.target ?? "") as Target;
if (!TARGETS.includes(target)) usageError("--target must be local, staging or production");
if (values["secrets-from-env"] && values["env-file"]) usageError("choose --env-file or --secrets-from-env");
const strict = target !== "local";
const configPath = resolve(values.config ?? join(ROOT, "wrangler.toml"));
if (!fileExists(configPath)) usageError(`no wrangler config at ${configPath}`);
let base: string | undefined;
const rawUrl =
  values.url ?? process.env.BACKEND_BASE_URL ?? (target === "local" ? "http://127.0.0.1:8787" : undefined);
if (rawUrl) {
  try {
    base = normalizeBaseUrl(rawUrl);
  } catch (error) {
    usageError(`--url: ${(error as Error).message}`);
  }
}

const say = (line: string) => process.stdout.write(`go-live: ${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), "tollgate-go-live-"));
// The temporary directory holds a backup and vitest's report: removed however the run ends.
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

// ------------------------------------------------------------------ where values come from
let source: SecretSource;
if (values["secrets-from-env"]) {
  source = { label: "environment (--secrets-from-env)", values: process.env };
} else if (values["env-file"] || target === "local") {
  const file = resolve(values["env-file"] ?? join(ROOT, ".data/dev.vars"));
  const rel = relative(process.cwd(), file);
  const shown = rel && !rel.startsWith("..") ? rel : file;
  source = fileExists(file)
    ? { label: `env file ${shown}`, values: readEnvFile(file) }
    : {
        label: `env file ${shown}`,
        error: `${shown} does not exist: start npm run dev (it writes it) or pass --env-file`,
      };
} else if (process.env.CLOUDFLARE_API_TOKEN) {
  source = { label: "wrangler secret list (Cloudflare)" };
} else {
  source = {
    label: "none",
    error:
      "no source for secrets: set CLOUDFLARE_API_TOKEN (wrangler secret list) or pass --secrets-from-env",
  };
}
/** A value the checks use (never printed): the source's, else this process's environment. */
const setting = (name: string) => source.values?.[name] || process.env[name] || undefined;
// Locally the token is the stack's own (the env file); a deployed target's is the client's copy.
const adminToken =
  target === "local"
    ? setting("ADMIN_TOKEN") || process.env.BACKEND_ADMIN_TOKEN
    : process.env.BACKEND_ADMIN_TOKEN || setting("ADMIN_TOKEN");
const databaseUrl = target === "local" ? setting("DATABASE_URL") : process.env.DATABASE_URL || undefined;
const localVars: Record<string, string> = {};
if (target === "local" && source.values && !values["secrets-from-env"])
  for (const [k, v] of Object.entries(source.values)) if (v !== undefined) localVars[k] = v;

say(`target ${target}; config ${relative(process.cwd(), configPath) || configPath}; url ${base ?? "(none)"}`);
say(`secrets from: ${source.label}${source.error ? ` — ${source.error}` : ""}`);

// ------------------------------------------------------------------ shared, memoized tasks
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => {
    promise ??= fn();
    return promise;
  };
}

/** The deployment's base URL, for tasks that only run when `live` allowed them. */
const deployment = (): string => {
  if (!base) throw new Error("no --url (or BACKEND_BASE_URL)");
  return base;
};

/** The first failing rows of a report, in one line. */
const failedRows = (rows: readonly Row[]) =>
  rows
    .filter((r) => r.result === "fail")
    .slice(0, 3)
    .map((r) => `${r.check}: FAIL ${r.detail}`)
    .join(" / ")
    .slice(0, 400);

const configs = once(async () => readWorkerConfigs(configPath, target, localVars));

/** Secret names (and values, when the source has them) per Worker. */
const secrets = once(async () => {
  // production-all-in-one is named tollgate-production: it has the web Worker's secrets, not its own.
  const workers = (await configs()).filter((w) => !w.fallback);
  if (source.error) throw new Error(source.error);
  const sourceValues = source.values;
  if (sourceValues) {
    // One set of values stands for every Worker of the target.
    const names = new Set(Object.keys(sourceValues).filter((k) => sourceValues[k]));
    return [{ label: workers.map((w) => w.label).join(" + "), names, values: sourceValues }];
  }
  const out: { label: string; names: Set<string>; values?: Record<string, string | undefined> }[] = [];
  for (const worker of workers) {
    say(`  wrangler secret list --env ${worker.env} ...`);
    out.push({ label: worker.label, names: new Set(await listCloudflareSecrets(worker.env, configPath)) });
  }
  return out;
});

/** The secrets a Worker must have for this target (locally the emulator stands in for STRIPE_SECRET_KEY). */
function requiredSecrets(): string[] {
  if (target !== "local") return REQUIRED_SECRETS;
  return REQUIRED_SECRETS.filter((n) => n !== "STRIPE_SECRET_KEY" || !setting("STRIPE_API_BASE"));
}

/**
 * Problems with the named secrets on every Worker: missing, and (when values are known and the target
 * is deployed) development defaults or too short.
 */
async function secretProblems(names: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const worker of await secrets()) {
    for (const name of names)
      if (!worker.names.has(name)) problems.push(`${name} not set on ${worker.label}`);
    if (worker.values) {
      const picked: Record<string, string | undefined> = {};
      for (const name of names) picked[name] = worker.values[name];
      if (names.includes("ADMIN_TOKEN") && process.env.BACKEND_ADMIN_TOKEN)
        picked.BACKEND_ADMIN_TOKEN = process.env.BACKEND_ADMIN_TOKEN;
      for (const p of secretValueProblems(picked, { strict, required: [] }))
        problems.push(`${p} (${worker.label})`);
    }
  }
  return [...new Set(problems)];
}

const workersText = async () =>
  (await configs())
    .filter((w) => !w.fallback)
    .map((w) => w.label)
    .join(", ");

const live = (what: string): Outcome | undefined => {
  if (values["skip-live"])
    return { status: "skip", detail: `--skip-live: ${what} not checked (no deployment yet)` };
  if (!base) return { status: "fail", detail: `no --url (or BACKEND_BASE_URL): ${what} cannot be checked` };
  return undefined;
};

const ready = once(async () => request(`${deployment()}/api/ready`));

const metrics = once(async (): Promise<JsonObject> => {
  if (!adminToken) throw new Error("no admin token (BACKEND_ADMIN_TOKEN)");
  const answer = await request(`${deployment()}/api/ops/metrics`, { headers: bearer(adminToken) });
  if (answer.status !== 200 || !answer.body)
    throw new Error(`GET /api/ops/metrics: ${describeAnswer(answer)}`);
  return answer.body;
});

/** Smoke, with SMOKE_API_KEY, or (local, staging) a smoke account it bootstraps; the key is kept for billing. */
const smoke = once(async () => {
  const apiKey = process.env.SMOKE_API_KEY || undefined;
  let origin: string | undefined;
  if (!apiKey) {
    if (target === "production") return { ok: false, detail: "SMOKE_API_KEY is not set", apiKey: undefined };
    if (!adminToken)
      return { ok: false, detail: "no SMOKE_API_KEY and no admin token to bootstrap one", apiKey: undefined };
    const web = (await configs())[0];
    origin = (web?.vars.AUTH_ORIGIN_ALLOWLIST ?? "").split(",")[0]?.trim() || undefined;
  }
  say("  npm run smoke ...");
  const run = await runSmoke({ base: deployment(), apiKey, adminToken, bootstrap: !apiKey, origin });
  const steps = run.rows.filter((r) => r.result === "pass").length;
  return run.ok
    ? {
        ok: true,
        detail: `npm run smoke: OK, ${steps} steps${apiKey ? "" : " (bootstrapped smoke account)"}`,
        apiKey: run.apiKey,
      }
    : { ok: false, detail: `npm run smoke: ${failedRows(run.rows)}`, apiKey: run.apiKey };
});

const monitor = once(async () => {
  say("  npm run monitor ...");
  // No alert from a go-live run: the table says it all.
  const run = await runMonitor({ base: deployment(), token: adminToken, webhookUrl: undefined });
  const failures = run.failing
    .slice(0, 3)
    .map((f) => `${f.check}: FAIL ${f.detail}`)
    .join(" / ")
    .slice(0, 400);
  return run.exitCode === 0
    ? { ok: true, detail: "npm run monitor: OK" }
    : { ok: false, detail: `npm run monitor: ${failures}` };
});

const triage = once(async () => {
  say("  npm run triage ...");
  const run = await runTriage({ base: deployment(), token: adminToken });
  const problems = run.findings
    .filter((f) => f.cause)
    .map((f) => describeProblem(f).slice(0, 118))
    .join(" / ");
  return {
    ok: run.exitCode === 0,
    detail: `npm run triage: ${run.verdict} (exit ${run.exitCode})${problems ? `: ${problems}` : ""}`,
  };
});

const checkout = once(async () => {
  const { apiKey } = await smoke();
  if (!apiKey) throw new Error("no smoke account API key (see the smoke line)");
  return checkCheckoutIdempotency({ base: deployment(), apiKey });
});

const database = () => {
  if (!databaseUrl)
    throw new Error(
      target === "local"
        ? `no DATABASE_URL in ${source.label} (npm run dev with DATABASE_URL set to a Postgres)`
        : "DATABASE_URL is not set in this environment",
    );
  return databaseUrl;
};

/** What db:status reports: every migration applied and every function file current, or what is not. */
async function databaseStatus(url: string): Promise<string> {
  let pending: string[];
  let stale: string[];
  let applied: number;
  let current: number;
  try {
    const client = await connect(url);
    // A connection dropped mid-query is reported by the query; without a listener it would end the run.
    client.on("error", () => {});
    try {
      const status = await migrationStatus(client);
      const functions = await functionStatus(client);
      pending = status.filter((m) => !m.applied).map((m) => m.tag);
      applied = status.length;
      stale = functions.filter((f) => f.state !== "current").map((f) => `${f.file} (${f.state})`);
      current = functions.length;
    } finally {
      await client.end();
    }
  } catch (error) {
    throw new Error(`db:status: FAIL: cannot read the migration state: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  if (pending.length > 0)
    problems.push(
      `PENDING: ${pending.length} migration(s) not applied: ${pending.join(", ")}; run npm run db:migrate`,
    );
  if (stale.length > 0)
    problems.push(
      `PENDING: ${stale.length} function file(s) not current: ${stale.join(", ")}; run npm run db:migrate`,
    );
  if (problems.length > 0) throw new Error(`db:status: ${problems.join(" / ")}`);
  return `up to date, ${applied} migration(s) applied, ${current} function file(s) current`;
}

const migrations = once(async () => {
  const url = database();
  if (values.migrate) {
    say("  npm run db:migrate ...");
    try {
      await runMigrations(url);
    } catch (error) {
      throw new Error(`db:migrate: failed: ${(error as Error).message}`);
    }
  }
  say("  npm run db:status ...");
  return `${values.migrate ? "db:migrate, then " : ""}db:status: ${await databaseStatus(url)}`;
});

const backup = once(async () => {
  const url = database();
  say("  npm run db:backup -- --out <temporary directory> ...");
  const run = await backupDatabase({ databaseUrl: url, outDir: join(workDir, "backups") });
  if (!run.ok) throw new Error(`db:backup: ${run.failure ?? failedRows(run.rows)}`);
  if (!run.dumpPath) throw new Error("db:backup wrote no .dump");
  return { path: run.dumpPath, name: basename(run.dumpPath) };
});

const restore = once(async () => {
  const { path, name } = await backup();
  const scratch = process.env.SCRATCH_DATABASE_URL || (target === "production" ? undefined : database());
  if (!scratch)
    throw new Error("SCRATCH_DATABASE_URL is not set: a restore is never tried on the production server");
  say("  npm run db:verify-restore -- --backup <that dump> ...");
  const run = await verifyRestore({ backupPath: path, databaseUrl: scratch });
  if (!run.ok) throw new Error(`db:verify-restore: ${run.failure ?? failedRows(run.rows)}`);
  const passes = run.rows.filter((r) => r.result === "pass").length;
  return `db:verify-restore: ${passes} checks passed on ${name} (restored into a temporary database, dropped)${
    process.env.SCRATCH_DATABASE_URL ? " on SCRATCH_DATABASE_URL's server" : ""
  }`;
});

const stripeEndpoint = once(async (): Promise<Outcome> => {
  if (target === "local") {
    const api = setting("STRIPE_API_BASE");
    if (!api)
      return { status: "n/a", detail: "STRIPE_SECRET_KEY set locally: use stripe listen --forward-to" };
    const health = await request(`${api.replace(/\/+$/, "")}/_emulator/health`).catch(() => null);
    if (health?.status !== 200)
      return { status: "fail", detail: `the Stripe emulator at ${api} does not answer` };
    return {
      status: "pass",
      detail: `local: the Stripe emulator (${api}) forwards every event, signed, to ${base ?? "the Worker"}/api/billing/stripe/webhook, like stripe listen; no Dashboard endpoint exists locally`,
    };
  }
  const notLive = live("the Stripe endpoint");
  if (notLive && !base) return notLive;
  if (!process.env.STRIPE_SECRET_KEY)
    return { status: "fail", detail: "STRIPE_SECRET_KEY is not in this environment: cannot ask Stripe" };
  say("  npm run stripe:webhook -- --verify ...");
  const lines: string[] = [];
  const { exitCode, failure } = await runStripeWebhook({
    url: deployment(),
    environment: target,
    verify: true,
    secretKey: process.env.STRIPE_SECRET_KEY,
    log: (line) => lines.push(line),
  });
  if (failure) lines.push(`stripe:webhook: ${failure}`);
  const said = lines.filter((l) => l.trim());
  return exitCode === 0
    ? { status: "pass", detail: `stripe:webhook --verify: ${said[0] ?? ""}` }
    : {
        status: "fail",
        detail: `stripe:webhook --verify (exit ${exitCode}): ${said.slice(0, 3).join(" / ")}`,
      };
});

function readWorkflow(file: string): Workflow {
  const path = join(ROOT, ".github/workflows", file);
  if (!fileExists(path)) throw new Error(`.github/workflows/${file} is missing`);
  const text = readFileSync(path, "utf8");
  const doc = parseYaml(text) as Workflow["doc"];
  const usedSecrets = new Set([...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => m[1] ?? ""));
  return { doc, text, usedSecrets };
}

/** Runs an external tool to its end; its output is collected, not printed. */
function runTool(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: ROOT, env: process.env });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("error", (error) => resolvePromise({ code: 1, output: `${output}${error.message}\n` }));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

/** The critical-path and billing-integrity tests, in workerd (vitest's JSON report, counted per file). */
const vitest = once(async (): Promise<VitestRun> => {
  say("  vitest run --project workers test/critical-path.test.ts test/billing-integrity.test.ts ...");
  const bin = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
  const files = ["test/critical-path.test.ts", "test/billing-integrity.test.ts"];
  const report = join(workDir, "vitest.json");
  const args = ["run", "--project", "workers", "--reporter", "json", "--outputFile", report, ...files];
  const { code, output } = await runTool(process.execPath, [bin, ...args]);
  let json: { testResults?: { name: string; assertionResults: { status: string }[] }[] } = {};
  try {
    json = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    // no report: the summary below says so
  }
  const summary = files.map((file) => {
    const result = json.testResults?.find((r) => r.name.endsWith(file));
    if (!result) return { file, detail: "no result (see vitest's output)" };
    const count = (status: string) => result.assertionResults.filter((a) => a.status === status).length;
    const failed = count("failed");
    return { file, detail: `${count("passed")} passed${failed ? `, ${failed} failed` : ""}`, failed };
  });
  return { code, output, summary };
});

// ------------------------------------------------------------------ the checklist
const context: ChecklistContext = {
  ROOT,
  target,
  strict,
  base,
  skipTests: Boolean(values["skip-tests"]),
  source,
  setting,
  configs,
  secretProblems,
  requiredSecrets,
  workersText,
  live,
  ready,
  metrics,
  smoke,
  monitor,
  triage,
  checkout,
  migrations,
  backup,
  restore,
  stripeEndpoint,
  readWorkflow,
  vitest,
};
const LINES = checklistLines(context);

// ------------------------------------------------------------------ run it
const SYMBOL: Record<Status, string> = { pass: "✔", fail: "✘", manual: "manual", "n/a": "n/a", skip: "skip" };
const results: { line: Line; outcome: Outcome }[] = [];
for (const line of LINES) {
  say(`${line.section} › ${line.text} ...`);
  let outcome: Outcome;
  try {
    outcome = await line.run();
  } catch (error) {
    outcome = { status: "fail", detail: (error as Error).message };
  }
  say(`  ${SYMBOL[outcome.status]} ${outcome.detail}`);
  results.push({ line, outcome });
}

process.stdout.write(
  `\n${formatTable(
    ["section", "checklist line", "result", "how it was checked / why"],
    results.map(({ line, outcome }) => [
      line.section,
      `${line.sub ? "  - " : ""}${line.text}`,
      SYMBOL[outcome.status],
      outcome.detail,
    ]),
  )}\n\n`,
);
const count = (s: Status) => results.filter((r) => r.outcome.status === s).length;
const manualLines = results.filter((r) => r.outcome.status === "manual");
if (manualLines.length > 0) {
  process.stdout.write("For a person (manual lines):\n");
  for (const { line, outcome } of manualLines)
    process.stdout.write(`- ${line.text}\n    ${outcome.detail}\n`);
  process.stdout.write("\n");
}
say(
  `${target}: ${count("pass")} ✔, ${count("fail")} ✘, ${count("manual")} manual, ${count("n/a")} n/a, ${count("skip")} skip; secrets from ${source.label}`,
);
say(count("fail") > 0 ? "FAILED" : "OK");
process.exitCode = count("fail") > 0 ? 1 : 0;
