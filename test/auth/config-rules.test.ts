import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";

/** A production env that passes every rule; each case below breaks exactly one thing. */
const PRODUCTION = {
  ENVIRONMENT: "production",
  ROLE: "web",
  DATABASE_URL: "postgres://tollgate@db.example/tollgate",
  ADMIN_TOKEN: "Zq8Vn3Lw0Rt5Yb1Kc6Jd2Hf7Gs4Ma9Pe0Xu3Wi8Oo1A",
  BETTER_AUTH_SECRET: "Jd2Hf7Gs4Ma9Pe0Xu3Wi8Oo1AZq8Vn3Lw0Rt5Yb1Kc6",
  STRIPE_SECRET_KEY: "sk_live_51TollgateExample",
  STRIPE_WEBHOOK_SECRET: "whsec_TollgateProductionExample",
  AUTH_ORIGIN_ALLOWLIST: "https://app.tollgate.example",
  CORS_ALLOW_ORIGINS: "https://app.tollgate.example",
  PUBLIC_ORIGIN_ALLOWLIST: "https://app.tollgate.example",
  ALLOW_LOCALHOST_ORIGINS: "false",
  ALLOW_NULL_ORIGIN: "false",
  MVP_WORKER_ENABLED: "false",
  LEGACY_QUEUE_WORKER_ENABLED: "false",
};

const problems = (overrides: Record<string, string>) =>
  loadConfig({ ...PRODUCTION, ...overrides }).problems.map((p) => `${p.rule}:${p.variable}`);

describe("production config rules (ready fails, naming the rule)", () => {
  it("accepts a proper production config", () => {
    expect(loadConfig({ ...PRODUCTION }).problems).toEqual([]);
  });

  it.each([
    [
      "ALLOW_LOCALHOST_ORIGINS=true",
      { ALLOW_LOCALHOST_ORIGINS: "true" },
      "no_localhost_in_production:ALLOW_LOCALHOST_ORIGINS",
    ],
    [
      "ALLOW_NULL_ORIGIN=true",
      { ALLOW_NULL_ORIGIN: "true" },
      "no_null_origin_in_production:ALLOW_NULL_ORIGIN",
    ],
    ["a wildcard", { CORS_ALLOW_ORIGINS: "*" }, "no_wildcard_origin:CORS_ALLOW_ORIGINS"],
    [
      "a wildcard subdomain",
      { AUTH_ORIGIN_ALLOWLIST: "https://*.tollgate.example" },
      "no_wildcard_origin:AUTH_ORIGIN_ALLOWLIST",
    ],
    [
      "the null origin",
      { AUTH_ORIGIN_ALLOWLIST: "https://app.tollgate.example,null" },
      "no_null_origin_in_production:AUTH_ORIGIN_ALLOWLIST",
    ],
    [
      "localhost",
      { PUBLIC_ORIGIN_ALLOWLIST: "http://localhost:8787" },
      "no_localhost_in_production:PUBLIC_ORIGIN_ALLOWLIST",
    ],
    [
      "a loopback IP",
      { CORS_ALLOW_ORIGINS: "https://127.0.0.1" },
      "no_localhost_in_production:CORS_ALLOW_ORIGINS",
    ],
    [
      "plain http",
      { PUBLIC_ORIGIN_ALLOWLIST: "http://app.tollgate.example" },
      "https_origins_only:PUBLIC_ORIGIN_ALLOWLIST",
    ],
    [
      "a URL with a path",
      { AUTH_ORIGIN_ALLOWLIST: "https://app.tollgate.example/app" },
      "valid_origins_only:AUTH_ORIGIN_ALLOWLIST",
    ],
    ["a bare host", { CORS_ALLOW_ORIGINS: "app.tollgate.example" }, "valid_origins_only:CORS_ALLOW_ORIGINS"],
    [
      "the dev ADMIN_TOKEN",
      { ADMIN_TOKEN: "dev-admin-token-change-me" },
      "no_dev_default_secrets:ADMIN_TOKEN",
    ],
    ["a short ADMIN_TOKEN", { ADMIN_TOKEN: "short-token" }, "strong_admin_token:ADMIN_TOKEN"],
    ["a short ADMIN_TOKEN_NEXT", { ADMIN_TOKEN_NEXT: "short-next" }, "strong_admin_token:ADMIN_TOKEN_NEXT"],
    [
      "the dev BETTER_AUTH_SECRET",
      { BETTER_AUTH_SECRET: "dev-better-auth-secret-change-me-0123456789" },
      "no_dev_default_secrets:BETTER_AUTH_SECRET",
    ],
    ["no BETTER_AUTH_SECRET", { BETTER_AUTH_SECRET: "" }, "strong_auth_secret:BETTER_AUTH_SECRET"],
    [
      "a short BETTER_AUTH_SECRET",
      { BETTER_AUTH_SECRET: "too-short" },
      "strong_auth_secret:BETTER_AUTH_SECRET",
    ],
    [
      "the dev webhook secret",
      { STRIPE_WEBHOOK_SECRET: "whsec_tollgate_local_dev" },
      "no_dev_default_secrets:STRIPE_WEBHOOK_SECRET",
    ],
  ])("refuses %s", (_, overrides, expected) => {
    expect(problems(overrides)).toContain(expected);
  });

  it("names rules and variables, never values", () => {
    const result = loadConfig({
      ...PRODUCTION,
      ADMIN_TOKEN: "dev-admin-token-change-me",
      CORS_ALLOW_ORIGINS: "*",
    });
    expect(JSON.stringify(result.problems)).not.toContain("dev-admin-token-change-me");
  });

  it("outside production the same values are allowed (local dev needs localhost)", () => {
    expect(loadConfig({ ...PRODUCTION, ENVIRONMENT: "local", ALLOW_LOCALHOST_ORIGINS: "true" }).ok).toBe(
      true,
    );
  });
});
