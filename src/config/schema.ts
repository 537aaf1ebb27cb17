import { z } from "zod";
import { CreditPacksVariable } from "./credit-packs.ts";

const flag = z
  .enum(["true", "false", "1", "0", ""])
  .optional()
  .transform((v) => v === "true" || v === "1");

const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v && v.trim().length > 0 ? v.trim() : undefined));

const positiveInt = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0) {
        ctx.addIssue({ code: "custom", message: "must be a positive integer" });
        return z.NEVER;
      }
      return n;
    });

/**
 * Every variable Tollgate reads, validated once per entry point (fetch, queue, scheduled).
 * Raw Worker bindings are strings; this turns them into typed config and fails closed on nonsense.
 */
export const ConfigSchema = z.object({
  ENVIRONMENT: z.enum(["local", "staging", "production"]),
  ROLE: z.enum(["web", "worker", "all-in-one"]).default("all-in-one"),
  DATABASE_URL: z.string().min(1, "DATABASE_URL is required"),
  LOCAL_NEON_URL: optionalString,
  ADMIN_TOKEN: z.string().min(1, "ADMIN_TOKEN is required"),
  ADMIN_TOKEN_NEXT: optionalString,
  BETTER_AUTH_SECRET: optionalString,
  STRIPE_SECRET_KEY: optionalString,
  STRIPE_WEBHOOK_SECRET: list,
  STRIPE_API_BASE: optionalString,
  SENTRY_DSN: optionalString,
  MONITOR_ALERT_WEBHOOK_URL: optionalString,
  AUTH_ORIGIN_ALLOWLIST: list,
  CORS_ALLOW_ORIGINS: list,
  PUBLIC_ORIGIN_ALLOWLIST: list,
  ALLOW_LOCALHOST_ORIGINS: flag,
  ALLOW_NULL_ORIGIN: flag,
  MVP_WORKER_ENABLED: flag,
  LEGACY_QUEUE_WORKER_ENABLED: flag,
  /** Mounts GET /api/bench/select-1 for bench/run.ts; never in production (src/config/rules.ts). */
  BENCH_BASELINE_ROUTE: flag,
  CREDIT_PACKS: CreditPacksVariable,
  MAX_BODY_BYTES: positiveInt(64 * 1024),
  HEARTBEAT_STALE_AFTER_S: positiveInt(180),
  // Alert thresholds (src/ops/alerts/rules.ts): a rule fires when its figure reaches the threshold.
  ALERT_WEBHOOK_FAILURES_1H: positiveInt(5),
  ALERT_FAILED_JOBS_1H: positiveInt(10),
  ALERT_QUEUE_GROWTH_1H: positiveInt(100),
  ALERT_DEAD_LETTER_GROWTH_1H: positiveInt(1),
  ALERT_RECONCILE_REPAIRS_24H: positiveInt(1),
  /** A rule that changed state stays in it at least this long: a flapping figure cannot flood the channel. */
  ALERT_COOLDOWN_S: positiveInt(600),
});

export type Config = z.output<typeof ConfigSchema>;
