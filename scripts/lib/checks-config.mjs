// What go-live checks without a running deployment: each Worker's config as wrangler reads it
// (`unstable_readConfig`), the origin rules of src/config/rules.ts, and where the secrets come from.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { DEV_DEFAULT_SECRETS } from "./checks.mjs";

/** @typedef {"local" | "staging" | "production"} Target */
/**
 * @typedef {{ env: string | undefined, label: string, role: "web" | "worker" | "all-in-one",
 *   fallback?: boolean }} WorkerSpec
 */
/**
 * @typedef {WorkerSpec & { name: string, vars: Record<string, string>,
 *   consumers: { queue: string, dead_letter_queue?: string }[], producers: { queue: string }[],
 *   crons: string[] }} WorkerConfig
 */

/** The Workers each target deploys (wrangler.toml environments), as scripts/secrets-rotate.mjs knows them. */
export const WORKERS_BY_TARGET = /** @type {Record<Target, WorkerSpec[]>} */ ({
  local: [{ env: undefined, label: "local", role: "all-in-one" }],
  staging: [
    { env: "staging", label: "staging", role: "web" },
    { env: "staging-worker", label: "staging-worker", role: "worker" },
  ],
  production: [
    { env: "production", label: "production", role: "web" },
    { env: "production-worker", label: "production-worker", role: "worker" },
    { env: "production-all-in-one", label: "production-all-in-one", role: "all-in-one", fallback: true },
  ],
});

export const ORIGIN_LISTS = ["AUTH_ORIGIN_ALLOWLIST", "CORS_ALLOW_ORIGINS", "PUBLIC_ORIGIN_ALLOWLIST"];

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
 * @param {string} configPath @param {Target} target @param {Record<string, string>} [overrides]
 * @returns {Promise<WorkerConfig[]>}
 */
export async function readWorkerConfigs(configPath, target, overrides = {}) {
  const { unstable_readConfig } = await import("wrangler");
  return WORKERS_BY_TARGET[target].map((spec) => {
    const config = unstable_readConfig({ config: configPath, env: spec.env }, { hideWarnings: true });
    /** @type {Record<string, string>} */
    const vars = {};
    for (const [k, v] of Object.entries(config.vars ?? {})) vars[k] = String(v);
    for (const [k, v] of Object.entries(overrides)) if (k in vars || ORIGIN_LISTS.includes(k)) vars[k] = v;
    return {
      ...spec,
      name: config.name ?? "(unnamed)",
      vars,
      consumers: /** @type {any} */ (config.queues?.consumers ?? []),
      producers: /** @type {any} */ (config.queues?.producers ?? []),
      crons: config.triggers?.crons ?? [],
    };
  });
}

/** localhost, `*.localhost`, 127/8, ::1, 0.0.0.0 (as src/auth/origins.ts). */
export function isLocalhostHost(/** @type {string} */ host) {
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]" ||
    host === "0.0.0.0" ||
    host === "[::]"
  );
}

/**
 * What is wrong with one comma-separated origin list. Strict (staging, production): https origins only,
 * no `*`, `null`, localhost or paths, and not empty. Otherwise only `*`, `null` and non-origins count.
 * @param {string | undefined} raw @param {boolean} strict
 * @returns {string[]}
 */
export function originProblems(raw, strict) {
  const entries = (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  /** @type {string[]} */
  const problems = [];
  if (strict && entries.length === 0) problems.push("empty");
  for (const entry of entries) {
    if (entry.includes("*")) {
      problems.push(`"${entry}" is a wildcard`);
      continue;
    }
    if (entry === "null") {
      problems.push('"null"');
      continue;
    }
    const url = URL.parse(entry);
    const isOrigin =
      url &&
      ["http:", "https:"].includes(url.protocol) &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash &&
      url.pathname === "/";
    if (!url || !isOrigin) {
      problems.push(`"${entry}" is not an origin`);
      continue;
    }
    if (!strict) continue;
    if (isLocalhostHost(url.hostname)) problems.push(`"${entry}" is localhost`);
    else if (url.protocol !== "https:") problems.push(`"${entry}" is not https`);
  }
  return problems;
}

/**
 * Problems with secret values (names only in the answer, never a value).
 * @param {Record<string, string | undefined>} values
 * @param {{ strict: boolean, required: string[] }} options
 * @returns {string[]}
 */
export function secretValueProblems(values, { strict, required }) {
  /** @type {string[]} */
  const problems = [];
  for (const name of required) if (!values[name]) problems.push(`${name} not set`);
  if (!strict) return problems;
  for (const [name, value] of Object.entries(values)) {
    if (!value) continue;
    const parts = name === "STRIPE_WEBHOOK_SECRET" ? value.split(",").map((s) => s.trim()) : [value];
    if (parts.some((p) => DEV_DEFAULT_SECRETS.includes(p))) problems.push(`${name} is a development default`);
  }
  for (const name of ["ADMIN_TOKEN", "ADMIN_TOKEN_NEXT", "BETTER_AUTH_SECRET", "BACKEND_ADMIN_TOKEN"]) {
    const value = values[name];
    if (value && value.length < 32) problems.push(`${name} is shorter than 32 characters`);
  }
  return problems;
}

/**
 * A dotenv-style file as `npm run dev` writes it (.data/dev.vars: KEY="json string") or as people write
 * .dev.vars (KEY=value, optionally quoted). Comments and blank lines are skipped.
 * @param {string} path
 * @returns {Record<string, string>}
 */
export function readEnvFile(path) {
  /** @type {Record<string, string>} */
  const vars = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match || line.trimStart().startsWith("#")) continue;
    let value = /** @type {string} */ (match[2]);
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      try {
        value = JSON.parse(value);
      } catch {
        value = value.slice(1, -1);
      }
    } else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) {
      value = value.slice(1, -1);
    }
    vars[/** @type {string} */ (match[1])] = value;
  }
  return vars;
}

/** `wrangler` from PATH (npm run puts node_modules/.bin first), else the installed package's bin. */
function wranglerCommand() {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, process.platform === "win32" ? "wrangler.cmd" : "wrangler");
    try {
      accessSync(candidate, constants.X_OK);
      return { command: candidate, prefix: /** @type {string[]} */ ([]) };
    } catch {}
  }
  const pkg = createRequire(import.meta.url).resolve("wrangler/package.json");
  return { command: process.execPath, prefix: [join(dirname(pkg), "bin", "wrangler.js")] };
}

/**
 * The names of a Worker's secrets: `wrangler secret list --env ENV --format json`. Names only: Cloudflare
 * never returns values.
 * @param {string | undefined} env @param {string} configPath
 * @returns {Promise<string[]>}
 */
export function listCloudflareSecrets(env, configPath) {
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
        const list = JSON.parse(out.slice(out.indexOf("[")));
        resolve(list.map((/** @type {{ name: string }} */ s) => s.name));
      } catch {
        reject(new Error(`wrangler secret list --env ${env}: not JSON`));
      }
    });
  });
}

/** @param {string} path */
export const fileExists = (path) => existsSync(path);
