import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { loadConfig } from "../config/index.ts";
import { createDatabase } from "../db/client.ts";
import { ApiError } from "../errors/api-error.ts";

/**
 * Builds the per-request services. Fails closed: with an invalid config every route but health and
 * readiness answers 503, so a misconfigured deployment cannot take money or run jobs.
 */
export function services(options: { bypass?: (path: string) => boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function servicesMiddleware(c, next) {
    if (options.bypass?.(c.req.path)) return next();
    const result = loadConfig(c.env);
    if (!result.ok || !result.config) {
      throw new ApiError("service_unavailable", "The service is misconfigured; see /api/ready.");
    }
    const config = result.config;
    c.set("services", { config, database: createDatabase(config.DATABASE_URL, config.LOCAL_NEON_URL) });
    return next();
  };
}
