import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { loadConfig } from "../config/index.ts";
import { ApiError } from "../errors/api-error.ts";
import { createServices } from "../services.ts";

/** Parses the config once for the request and, when it is valid, builds the request's services. */
export function services(): MiddlewareHandler<AppEnv> {
  return async function servicesMiddleware(c, next) {
    const result = loadConfig(c.env);
    c.set("configResult", result);
    if (result.ok) c.set("services", createServices(c.env, result.config));
    return next();
  };
}

/**
 * Fails closed: with an invalid config every route but the bypassed ones (health, readiness, docs)
 * answers 503, so a misconfigured deployment cannot take money or run jobs.
 */
export function requireServices(
  options: { bypass?: (path: string) => boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async function requireServicesMiddleware(c, next) {
    if (options.bypass?.(c.req.path) || c.get("configResult").ok) return next();
    throw new ApiError("service_unavailable", "The service is misconfigured; see /api/ready.");
  };
}
