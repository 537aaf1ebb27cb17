// What go-live checks without a running deployment: each Worker's config as wrangler reads it
// (`unstable_readConfig`), judged by the Worker's own production rules (src/config/rules.ts), and
// where the secrets come from.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { type ConfigProblem, checkConfigRules, ORIGIN_LISTS } from "../../src/config/rules.ts";
import { ConfigSchema } from "../../src/config/schema.ts";
import { type Target, WORKERS_BY_TARGET, type WorkerSpec } from "./deployments.ts";

export type { Target, WorkerSpec } from "./deployments.ts";

export type WorkerConfig = WorkerSpec & {
  name: string;
  vars: Record<string, string>;
  consumers: { queue: string; dead_letter_queue?: string }[];
  producers: { queue: string }[];
  crons: string[];
};

/** The secrets every Worker of a deployed target needs (each Worker has its own copy). */
export const REQUIRED_SECRETS = [
  "DATABASE_URL",
  "ADMIN_TOKEN",
  "BETTER_AUTH_SECRET",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
];

/**
 * Every Worker of the target as wrangler resolves it. For local, `overrides` (the env file wrangler dev
 * reads) replace [vars], as they do in wrangler dev.
 */
export async function readWorkerConfigs(
  configPath: string,
  target: Target,
  overrides: Record<string, string> = {},
): Promise<WorkerConfig[]> {
  const { unstable_readConfig } = await import("wrangler");
  const lists: readonly string[] = ORIGIN_LISTS;
  return WORKERS_BY_TARGET[target].map((spec) => {
    const config = unstable_readConfig({ config: configPath, env: spec.env }, { hideWarnings: true });
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.vars ?? {})) vars[k] = String(v);
    for (const [k, v] of Object.entries(overrides)) if (k in vars || lists.includes(k)) vars[k] = v;
    return {
      ...spec,
      name: config.name ?? "(unnamed)",
      vars,
      consumers: config.queues?.consumers ?? [],
      producers: config.queues?.producers ?? [],
      crons: config.triggers?.crons ?? [],
    };
  });
}

/** Values every production rule accepts: whatever checkConfigRules finds is about the values judged. */
const ACCEPTED: Record<string, string> = {
  ENVIRONMENT: "production",
  DATABASE_URL: "postgres://judged.invalid/tollgate",
  ADMIN_TOKEN: "a-production-strength-admin-token-for-judging",
  BETTER_AUTH_SECRET: "a-production-strength-auth-secret-for-judging",
  STRIPE_SECRET_KEY: "sk_live_judging",
  STRIPE_WEBHOOK_SECRET: "whsec_judging",
};

/** What the Worker's production rules (src/config/rules.ts) say about these variables, and only them. */
export function productionProblems(vars: Record<string, string>): ConfigProblem[] {
  const parsed = ConfigSchema.safeParse({ ...ACCEPTED, ...vars });
  if (!parsed.success)
    return parsed.error.issues.map((issue) => ({
      rule: "schema",
      variable: String(issue.path[0] ?? "env"),
      message: issue.message,
    }));
  return checkConfigRules(parsed.data).filter((p) => p.variable in vars);
}

/** An origin entry's problem in the checklist's words, by production rule; strict-only rules marked. */
const ORIGIN_WORDING: Record<string, { words: (entry: string) => string; strictOnly?: boolean }> = {
  no_wildcard_origin: { words: (entry) => `"${entry}" is a wildcard` },
  no_null_origin_in_production: { words: () => '"null"' },
  valid_origins_only: { words: (entry) => `"${entry}" is not an origin` },
  no_localhost_in_production: { words: (entry) => `"${entry}" is localhost`, strictOnly: true },
  https_origins_only: { words: (entry) => `"${entry}" is not https`, strictOnly: true },
};

/**
 * What is wrong with one comma-separated origin list, entry by entry, by the production rules. Strict
 * (staging, production): every rule, and not empty. Otherwise only `*`, `null` and non-origins count.
 */
export function originProblems(variable: string, raw: string | undefined, strict: boolean): string[] {
  const entries = (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const problems: string[] = [];
  if (strict && entries.length === 0) problems.push("empty");
  for (const entry of entries) {
    for (const problem of productionProblems({ [variable]: entry })) {
      const wording = ORIGIN_WORDING[problem.rule];
      if (!wording) problems.push(`"${entry}" ${problem.message}`);
      else if (strict || !wording.strictOnly) problems.push(wording.words(entry));
    }
  }
  return problems;
}

/** The client's copy of a Worker secret is held to the same rules as the Worker's. */
const JUDGED_AS: Record<string, string> = { BACKEND_ADMIN_TOKEN: "ADMIN_TOKEN" };

/**
 * Problems with secret values (names only in the answer, never a value). Strict: the production rules
 * on development defaults and on token strength.
 */
export function secretValueProblems(
  values: Record<string, string | undefined>,
  { strict, required }: { strict: boolean; required: readonly string[] },
): string[] {
  const problems: string[] = [];
  for (const name of required) if (!values[name]) problems.push(`${name} not set`);
  if (!strict) return problems;
  const defaults: string[] = [];
  const weak: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    if (!value) continue;
    for (const problem of productionProblems({ [JUDGED_AS[name] ?? name]: value })) {
      if (problem.rule === "no_dev_default_secrets") defaults.push(`${name} is a development default`);
      else if (problem.rule === "strong_admin_token" || problem.rule === "strong_auth_secret")
        weak.push(`${name} is shorter than 32 characters`);
      else problems.push(`${name} ${problem.message}`);
    }
  }
  return [...problems, ...defaults, ...weak];
}

/**
 * A dotenv-style file as `npm run dev` writes it (.data/dev.vars: KEY="json string") or as people write
 * .dev.vars (KEY=value, optionally quoted). Comments and blank lines are skipped.
 */
export function readEnvFile(path: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith("#")) continue;
    let value = match[2] ?? "";
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      try {
        value = JSON.parse(value);
      } catch {
        value = value.slice(1, -1);
      }
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    }
    vars[match[1] ?? ""] = value;
  }
  return vars;
}

/** `wrangler` from PATH (npm run puts node_modules/.bin first), else the installed package's bin. */
function wranglerCommand(): { command: string; prefix: string[] } {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, process.platform === "win32" ? "wrangler.cmd" : "wrangler");
    try {
      accessSync(candidate, constants.X_OK);
      return { command: candidate, prefix: [] };
    } catch {}
  }
  const pkg = createRequire(import.meta.url).resolve("wrangler/package.json");
  return { command: process.execPath, prefix: [join(dirname(pkg), "bin", "wrangler.js")] };
}

/**
 * The names of a Worker's secrets: `wrangler secret list --env ENV --format json`. Names only: Cloudflare
 * never returns values.
 */
export function listCloudflareSecrets(env: string | undefined, configPath: string): Promise<string[]> {
  const { command, prefix } = wranglerCommand();
  const args = [...prefix, "secret", "list", "--format", "json", "--config", configPath];
  if (env) args.push("--env", env);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) {
        const last = err.trim().split("\n").filter(Boolean).slice(-1)[0] ?? "";
        return reject(
          new Error(
            `wrangler secret list --env ${env} exited ${code}${last ? `: ${last.slice(0, 200)}` : ""}`,
          ),
        );
      }
      try {
        const list = JSON.parse(out.slice(out.indexOf("["))) as { name: string }[];
        resolve(list.map((s) => s.name));
      } catch {
        reject(new Error(`wrangler secret list --env ${env}: not JSON`));
      }
    });
  });
}

export const fileExists = (path: string) => existsSync(path);
