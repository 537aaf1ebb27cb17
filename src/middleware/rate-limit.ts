import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors/api-error.ts";
import { logEvent } from "../telemetry/log.ts";

/** The Rate Limiting bindings declared in wrangler.toml; absent on the worker role, which serves no API. */
export type RateLimiterBinding = "AUTH_RATE_LIMITER" | "JOBS_RATE_LIMITER" | "CHECKOUT_RATE_LIMITER";

/**
 * The period of every `[[ratelimits]]` entry in wrangler.toml. The binding only answers yes or no, so
 * a rejected client is told to come back after one whole period: never too early.
 */
export const RATE_LIMIT_PERIOD_SECONDS = 60;

export type RateLimitOptions = {
  binding: RateLimiterBinding;
  /** What to count by; a request without a key (`undefined`) is counted in one shared bucket. */
  key: (c: Context<AppEnv>) => string | undefined;
  /** Names the bucket, so one binding can serve several routes without sharing counts. */
  scope: string;
};

/**
 * Counts the request against a Rate Limiting binding and answers 429 `rate_limited` with
 * `Retry-After` once the limit is reached. It runs before the handler, so a rejected request changes
 * nothing. Use it after `authenticate()` for per-account limits:
 *
 *   createRoute({ ..., middleware: [authenticate(), rateLimit(perAccount("JOBS_RATE_LIMITER", "jobs.create"))] })
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler<AppEnv> {
  return async function rateLimitMiddleware(c, next) {
    const limiter = c.env[options.binding];
    if (!limiter) {
      // Only the worker role lacks the bindings (wrangler.toml), and it serves no public route. Should a
      // web deployment ever lose them, the log line makes it visible instead of every request failing.
      logEvent("rate_limit.binding_missing", { binding: options.binding, scope: options.scope });
      return next();
    }
    const key = `${options.scope}:${options.key(c) ?? "unknown"}`;
    const { success } = await limiter.limit({ key });
    if (!success) {
      throw new ApiError(
        "rate_limited",
        `Too many requests; retry after ${RATE_LIMIT_PERIOD_SECONDS} seconds.`,
        {
          headers: { "retry-after": String(RATE_LIMIT_PERIOD_SECONDS) },
        },
      );
    }
    return next();
  };
}

/** Per client IP, as Cloudflare reports it (`CF-Connecting-IP` cannot be set by the client). */
export function perIp(binding: RateLimiterBinding, scope: string): RateLimitOptions {
  return { binding, scope, key: (c) => c.req.header("cf-connecting-ip") };
}

/** Per authenticated account; needs `authenticate()` before it. */
export function perAccount(binding: RateLimiterBinding, scope: string): RateLimitOptions {
  return {
    binding,
    scope,
    key: (c) => {
      const caller = c.get("caller");
      if (!caller) throw new Error("rateLimit(perAccount(...)) needs authenticate() before it");
      return caller.accountId;
    },
  };
}
