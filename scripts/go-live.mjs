#!/usr/bin/env node
// npm run go-live: the MVP go-live checklist as one command. Runs every line a machine can check and
// prints the checklist with ✔ / ✘ / manual / n/a and the reason for each.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { parseCli } from "./lib/args.mjs";
import { checkCheckoutIdempotency } from "./lib/checks-billing.mjs";
import { checklistLines } from "./lib/checks-checklist.mjs";
import {
  fileExists,
  listCloudflareSecrets,
  REQUIRED_SECRETS,
  readEnvFile,
  readWorkerConfigs,
  secretValueProblems,
} from "./lib/checks-config.mjs";
import { bearer, describeAnswer, normalizeBaseUrl, request } from "./lib/http.ts";
import { formatTable } from "./lib/report-table.ts";

/** @typedef {import("./lib/checks-checklist.mjs").Outcome} Outcome */
/** @typedef {import("./lib/checks-checklist.mjs").Line} Line */

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

const usageError = (/** @type {string} */ message) => {
  process.stderr.write(`go-live: ${message}\n${USAGE}`);
  process.exit(2);
};
const target = /** @type {import("./lib/checks-config.mjs").Target} */ (values.target ?? "");
if (!["local", "staging", "production"].includes(target))
  usageError("--target must be local, staging or production");
if (values["secrets-from-env"] && values["env-file"]) usageError("choose --env-file or --secrets-from-env");
const strict = target !== "local";
const configPath = resolve(values.config ?? join(ROOT, "wrangler.toml"));
if (!fileExists(configPath)) usageError(`no wrangler config at ${configPath}`);
/** @type {string | undefined} */
let base;
const rawUrl =
  values.url ?? process.env.BACKEND_BASE_URL ?? (target === "local" ? "http://127.0.0.1:8787" : undefined);
if (rawUrl) {
  try {
    base = normalizeBaseUrl(rawUrl);
  } catch (error) {
    usageError(`--url: ${/** @type {Error} */ (error).message}`);
  }
}

const say = (/** @type {string} */ line) => process.stdout.write(`go-live: ${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), "tollgate-go-live-"));
// The temporary directory holds a backup and maybe a smoke key: removed however the run ends.
process.on("exit", () => rmSync(workDir, { recursive: true, force: true }));
for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM"]))
  process.once(signal, () => process.exit(130));

// ------------------------------------------------------------------ where values come from
/** @type {{ label: string, values?: Record<string, string>, error?: string }} */
let source;
if (values["secrets-from-env"]) {
  source = {
    label: "environment (--secrets-from-env)",
    values: /** @type {Record<string, string>} */ (process.env),
  };
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
const setting = (/** @type {string} */ name) => source.values?.[name] || process.env[name] || undefined;
// Locally the token is the stack's own (the env file); a deployed target's is the client's copy.
const adminToken =
  target === "local"
    ? setting("ADMIN_TOKEN") || process.env.BACKEND_ADMIN_TOKEN
    : process.env.BACKEND_ADMIN_TOKEN || setting("ADMIN_TOKEN");
const databaseUrl = target === "local" ? setting("DATABASE_URL") : process.env.DATABASE_URL || undefined;
const localVars = target === "local" && source.values && !values["secrets-from-env"] ? source.values : {};

say(`target ${target}; config ${relative(process.cwd(), configPath) || configPath}; url ${base ?? "(none)"}`);
say(`secrets from: ${source.label}${source.error ? ` — ${source.error}` : ""}`);

// ------------------------------------------------------------------ shared, memoized tasks
/** @template T @param {() => Promise<T>} fn @returns {() => Promise<T>} */
function once(fn) {
  /** @type {Promise<T> | undefined} */
  let promise;
  return () => {
    promise ??= fn();
    return promise;
  };
}

/**
 * Runs one of the project's scripts in a child process; values go in its environment, never its arguments.
 * @param {string} script @param {string[]} args @param {Record<string, string | undefined>} [env]
 * @returns {Promise<{ code: number, output: string }>}
 */
function runScript(script, args, env = {}) {
  return new Promise((resolvePromise) => {
    const childEnv = { ...process.env, ...env };
    for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: childEnv });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

/** The lines of a child's output that say what failed (its progress FAIL lines or its last line). */
function failureSummary(/** @type {string} */ output) {
  const lines = output.split("\n").map((l) => l.trim());
  const fails = lines.filter((l) => /\bFAIL\b|FAIL:|PENDING|error/i.test(l) && !l.startsWith("|"));
  const picked = (fails.length > 0 ? fails : lines.filter(Boolean).slice(-1)).slice(0, 3);
  return picked.join(" / ").slice(0, 400);
}

const configs = once(async () => readWorkerConfigs(configPath, target, localVars));

/** Secret names (and values, when the source has them) per Worker. */
const secrets = once(async () => {
  // production-all-in-one is named tollgate-production: it has the web Worker's secrets, not its own.
  const workers = (await configs()).filter((w) => !w.fallback);
  if (source.error) throw new Error(source.error);
  /** @type {{ label: string, names: Set<string>, values?: Record<string, string> }[]} */
  const out = [];
  if (source.values) {
    // One set of values stands for every Worker of the target.
    const names = new Set(Object.keys(source.values).filter((k) => source.values?.[k]));
    return [{ label: workers.map((w) => w.label).join(" + "), names, values: source.values }];
  }
  for (const worker of workers) {
    say(`  wrangler secret list --env ${worker.env} ...`);
    out.push({ label: worker.label, names: new Set(await listCloudflareSecrets(worker.env, configPath)) });
  }
  return out;
});

/** The secrets a Worker must have for this target (locally the emulator stands in for STRIPE_SECRET_KEY). */
function requiredSecrets() {
  if (target !== "local") return REQUIRED_SECRETS;
  return REQUIRED_SECRETS.filter((n) => n !== "STRIPE_SECRET_KEY" || !setting("STRIPE_API_BASE"));
}

/**
 * Problems with the named secrets on every Worker: missing, and (when values are known and the target
 * is deployed) development defaults or too short.
 * @param {string[]} names
 */
async function secretProblems(names) {
  const problems = [];
  for (const worker of await secrets()) {
    for (const name of names)
      if (!worker.names.has(name)) problems.push(`${name} not set on ${worker.label}`);
    if (worker.values) {
      /** @type {Record<string, string | undefined>} */
      const picked = {};
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

const live = (/** @type {string} */ what) => {
  if (values["skip-live"])
    return { status: "skip", detail: `--skip-live: ${what} not checked (no deployment yet)` };
  if (!base) return { status: "fail", detail: `no --url (or BACKEND_BASE_URL): ${what} cannot be checked` };
  return undefined;
};

const ready = once(async () => request(`${base}/api/ready`));

const metrics = once(async () => {
  if (!adminToken) throw new Error("no admin token (BACKEND_ADMIN_TOKEN)");
  const answer = await request(`${base}/api/ops/metrics`, { headers: bearer(adminToken) });
  if (answer.status !== 200 || !answer.body)
    throw new Error(`GET /api/ops/metrics: ${describeAnswer(answer)}`);
  return answer.body;
});

/** Smoke, with SMOKE_API_KEY, or (local, staging) a smoke account it bootstraps; the key is kept for billing. */
const smoke = once(async () => {
  const keyFile = join(workDir, "smoke-key");
  const args = ["--url", /** @type {string} */ (base)];
  /** @type {Record<string, string | undefined>} */
  const env = { SMOKE_API_KEY: process.env.SMOKE_API_KEY || undefined, BACKEND_ADMIN_TOKEN: adminToken };
  let bootstrapped = false;
  if (!env.SMOKE_API_KEY) {
    if (target === "production") return { ok: false, detail: "SMOKE_API_KEY is not set", apiKey: undefined };
    if (!adminToken)
      return { ok: false, detail: "no SMOKE_API_KEY and no admin token to bootstrap one", apiKey: undefined };
    const web = (await configs())[0];
    const origin = (web?.vars.AUTH_ORIGIN_ALLOWLIST ?? "").split(",")[0]?.trim();
    args.push("--bootstrap", "--save-key", keyFile);
    if (origin) args.push("--origin", origin);
    bootstrapped = true;
  }
  say("  npm run smoke ...");
  const { code, output } = await runScript("scripts/smoke.mjs", args, env);
  const apiKey = env.SMOKE_API_KEY ?? (code === 0 || fileExists(keyFile) ? readKey(keyFile) : undefined);
  const steps = (output.match(/^\| .* \| PASS /gm) ?? []).length;
  return code === 0
    ? {
        ok: true,
        detail: `npm run smoke: OK, ${steps} steps${bootstrapped ? " (bootstrapped smoke account)" : ""}`,
        apiKey,
      }
    : { ok: false, detail: `npm run smoke: ${failureSummary(output)}`, apiKey };
});

function readKey(/** @type {string} */ file) {
  try {
    return readFileSync(file, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

const monitor = once(async () => {
  say("  npm run monitor ...");
  // No alert from a go-live run: the table says it all.
  const { code, output } = await runScript("scripts/monitor.mjs", ["--url", /** @type {string} */ (base)], {
    BACKEND_ADMIN_TOKEN: adminToken,
    MONITOR_ALERT_WEBHOOK_URL: undefined,
  });
  return code === 0
    ? { ok: true, detail: "npm run monitor: OK" }
    : { ok: false, detail: `npm run monitor: ${failureSummary(output)}` };
});

const triage = once(async () => {
  say("  npm run triage ...");
  const { code, output } = await runScript("scripts/triage.mjs", ["--url", /** @type {string} */ (base)], {
    BACKEND_ADMIN_TOKEN: adminToken,
  });
  const verdict = /triage: (\w+) \(exit \d\)/.exec(output)?.[1] ?? `exit ${code}`;
  const problems = output
    .split("\n")
    .filter((l) => l.startsWith("- ["))
    .map((l) => l.slice(2, 120))
    .join(" / ");
  return {
    ok: code === 0,
    detail: `npm run triage: ${verdict} (exit ${code})${problems ? `: ${problems}` : ""}`,
  };
});

const checkout = once(async () => {
  const { apiKey } = await smoke();
  if (!apiKey) throw new Error("no smoke account API key (see the smoke line)");
  return checkCheckoutIdempotency({ base: /** @type {string} */ (base), apiKey });
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

const migrations = once(async () => {
  const url = database();
  if (values.migrate) {
    say("  npm run db:migrate ...");
    const migrated = await runScript("scripts/db-migrate.ts", [], { DATABASE_URL: url });
    if (migrated.code !== 0) throw new Error(`db:migrate: ${failureSummary(migrated.output)}`);
  }
  say("  npm run db:status ...");
  const { code, output } = await runScript("scripts/db-status.ts", [], { DATABASE_URL: url });
  if (code !== 0) throw new Error(`db:status: ${failureSummary(output)}`);
  return `${values.migrate ? "db:migrate, then " : ""}db:status: ${/OK: (.*)/.exec(output)?.[1] ?? "up to date"}`;
});

const backup = once(async () => {
  const url = database();
  const out = join(workDir, "backups");
  say("  npm run db:backup -- --out <temporary directory> ...");
  const { code, output } = await runScript("scripts/db-backup.ts", ["--out", out], { DATABASE_URL: url });
  if (code !== 0) throw new Error(`db:backup: ${failureSummary(output)}`);
  const dump = readdirSync(out).find((f) => f.endsWith(".dump"));
  if (!dump) throw new Error("db:backup wrote no .dump");
  return { path: join(out, dump), name: dump };
});

const restore = once(async () => {
  const { path, name } = await backup();
  const scratch = process.env.SCRATCH_DATABASE_URL || (target === "production" ? undefined : database());
  if (!scratch)
    throw new Error("SCRATCH_DATABASE_URL is not set: a restore is never tried on the production server");
  say("  npm run db:verify-restore -- --backup <that dump> ...");
  const { code, output } = await runScript("scripts/db-verify-restore.ts", ["--backup", path], {
    DATABASE_URL: scratch,
  });
  if (code !== 0) throw new Error(`db:verify-restore: ${failureSummary(output)}`);
  const passes = (output.match(/^\| .* \| PASS /gm) ?? []).length;
  return `db:verify-restore: ${passes} checks passed on ${name} (restored into a temporary database, dropped)${
    process.env.SCRATCH_DATABASE_URL ? " on SCRATCH_DATABASE_URL's server" : ""
  }`;
});

const stripeEndpoint = once(async () => {
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
  const { code, output } = await runScript(
    "scripts/stripe-webhook.mjs",
    ["--url", /** @type {string} */ (base), "--env", target, "--verify"],
    { STRIPE_API_BASE: undefined },
  );
  return code === 0
    ? { status: "pass", detail: `stripe:webhook --verify: ${output.trim().split("\n")[0]}` }
    : {
        status: "fail",
        detail: `stripe:webhook --verify (exit ${code}): ${output.trim().split("\n").slice(0, 3).join(" / ")}`,
      };
});

/** @param {string} file */
function readWorkflow(file) {
  const path = join(ROOT, ".github/workflows", file);
  if (!fileExists(path)) throw new Error(`.github/workflows/${file} is missing`);
  const text = readFileSync(path, "utf8");
  const doc = parseYaml(text);
  const usedSecrets = new Set(
    [...text.matchAll(/secrets\.([A-Z0-9_]+)/g)].map((m) => /** @type {string} */ (m[1])),
  );
  return { doc, text, usedSecrets };
}

/** The critical-path and billing-integrity tests, in workerd (vitest's JSON report, counted per file). */
const vitest = once(async () => {
  say("  vitest run --project workers test/critical-path.test.ts test/billing-integrity.test.ts ...");
  const bin = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");
  const files = ["test/critical-path.test.ts", "test/billing-integrity.test.ts"];
  const report = join(workDir, "vitest.json");
  const args = ["run", "--project", "workers", "--reporter", "json", "--outputFile", report, ...files];
  const { code, output } = await runScript(bin, args);
  /** @type {{ testResults?: { name: string, assertionResults: { status: string }[] }[] }} */
  let json = {};
  try {
    json = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    // no report: the summary below says so
  }
  const summary = files.map((file) => {
    const result = json.testResults?.find((r) => r.name.endsWith(file));
    if (!result) return { file, detail: "no result (see vitest's output)" };
    const count = (/** @type {string} */ status) =>
      result.assertionResults.filter((a) => a.status === status).length;
    const failed = count("failed");
    return { file, detail: `${count("passed")} passed${failed ? `, ${failed} failed` : ""}`, failed };
  });
  return { code, output, summary };
});

// ------------------------------------------------------------------ the checklist
const LINES = checklistLines({
  ROOT,
  target,
  strict,
  base,
  values,
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
});

// ------------------------------------------------------------------ run it
const SYMBOL = { pass: "✔", fail: "✘", manual: "manual", "n/a": "n/a", skip: "skip" };
/** @type {{ line: Line, outcome: Outcome }[]} */
const results = [];
for (const line of LINES) {
  say(`${line.section} › ${line.text} ...`);
  /** @type {Outcome} */
  let outcome;
  try {
    outcome = await line.run();
  } catch (error) {
    outcome = { status: "fail", detail: /** @type {Error} */ (error).message };
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
const count = (/** @type {Outcome["status"]} */ s) => results.filter((r) => r.outcome.status === s).length;
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
