import { isLocalhostOrigin, normalizeOrigin } from "./origins.ts";
import type { Config } from "./schema.ts";

/**
 * The secrets `npm run dev` uses when neither the environment nor `.dev.vars` sets them (they also
 * ship in `.dev.vars.example`).
 */
export const DEV_DEFAULTS = {
  ADMIN_TOKEN: "dev-admin-token-change-me",
  BETTER_AUTH_SECRET: "dev-better-auth-secret-change-me-0123456789",
  STRIPE_WEBHOOK_SECRET: "whsec_tollgate_local_dev",
} as const;

/** Values that ship in `.dev.vars.example` and the test setup; never acceptable in production. */
export const DEV_DEFAULT_SECRETS = [
  DEV_DEFAULTS.ADMIN_TOKEN,
  DEV_DEFAULTS.BETTER_AUTH_SECRET,
  DEV_DEFAULTS.STRIPE_WEBHOOK_SECRET,
  "sk_test_tollgate_local",
  "test-admin-token",
] as const;

/** The comma-separated origin lists; production allows only https origins in them. */
export const ORIGIN_LISTS = [
  "AUTH_ORIGIN_ALLOWLIST",
  "CORS_ALLOW_ORIGINS",
  "PUBLIC_ORIGIN_ALLOWLIST",
] as const;

export type ConfigProblem = { rule: string; variable: string; message: string };

/**
 * Environment-specific rules on top of the schema (docs/ARCHITECTURE.md, Configuration rules). Outside
 * production these only describe; in production each one makes the config invalid and `/api/ready` fail,
 * naming the rule.
 */
export function checkConfigRules(config: Config): ConfigProblem[] {
  if (config.ENVIRONMENT !== "production") return [];
  const problems: ConfigProblem[] = [];
  const add = (rule: string, variable: string, message: string) => problems.push({ rule, variable, message });

  if (config.ALLOW_LOCALHOST_ORIGINS)
    add("no_localhost_in_production", "ALLOW_LOCALHOST_ORIGINS", "must be false in production");
  if (config.ALLOW_NULL_ORIGIN)
    add("no_null_origin_in_production", "ALLOW_NULL_ORIGIN", "must be false in production");

  for (const variable of ORIGIN_LISTS) {
    for (const origin of config[variable]) {
      if (origin.includes("*")) add("no_wildcard_origin", variable, "holds a wildcard");
      else if (origin === "null") add("no_null_origin_in_production", variable, "holds the null origin");
      else if (!normalizeOrigin(origin))
        add("valid_origins_only", variable, "holds an entry that is not an origin");
      else if (isLocalhostOrigin(origin))
        add("no_localhost_in_production", variable, "holds a localhost origin");
      else if (new URL(origin).protocol !== "https:")
        add("https_origins_only", variable, "holds a non-https origin");
    }
  }

  const secrets = ["ADMIN_TOKEN", "ADMIN_TOKEN_NEXT", "BETTER_AUTH_SECRET", "STRIPE_SECRET_KEY"] as const;
  for (const variable of secrets) {
    const value = config[variable];
    if (value && (DEV_DEFAULT_SECRETS as readonly string[]).includes(value))
      add("no_dev_default_secrets", variable, "equals a development default");
  }
  if (config.STRIPE_WEBHOOK_SECRET.some((s) => (DEV_DEFAULT_SECRETS as readonly string[]).includes(s)))
    add("no_dev_default_secrets", "STRIPE_WEBHOOK_SECRET", "equals a development default");
  if (config.ADMIN_TOKEN.length < 32)
    add("strong_admin_token", "ADMIN_TOKEN", "must be at least 32 characters");
  if (config.ADMIN_TOKEN_NEXT && config.ADMIN_TOKEN_NEXT.length < 32)
    add("strong_admin_token", "ADMIN_TOKEN_NEXT", "must be at least 32 characters");
  if (!config.BETTER_AUTH_SECRET || config.BETTER_AUTH_SECRET.length < 32)
    add("strong_auth_secret", "BETTER_AUTH_SECRET", "must be set to at least 32 characters");
  if (!config.STRIPE_SECRET_KEY) add("stripe_key_required", "STRIPE_SECRET_KEY", "must be set in production");
  if (config.STRIPE_WEBHOOK_SECRET.length === 0)
    add("stripe_webhook_secret_required", "STRIPE_WEBHOOK_SECRET", "must be set in production");
  if (config.LOCAL_NEON_URL)
    add("no_local_neon_in_production", "LOCAL_NEON_URL", "must be empty in production");
  if (config.STRIPE_API_BASE)
    add("no_stripe_emulator_in_production", "STRIPE_API_BASE", "must be empty in production");
  if (config.LEGACY_QUEUE_WORKER_ENABLED)
    add("legacy_worker_off", "LEGACY_QUEUE_WORKER_ENABLED", "must be false in production");
  if (config.BENCH_BASELINE_ROUTE)
    add("no_bench_route_in_production", "BENCH_BASELINE_ROUTE", "must be false in production");
  return problems;
}
