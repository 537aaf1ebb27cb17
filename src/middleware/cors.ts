import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { isCorsOrigin } from "../config/origins.ts";
import { ApiError } from "../errors/api-error.ts";

export type CorsOptions = {
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
};

const DEFAULTS: Required<CorsOptions> = {
  allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
  allowHeaders: ["authorization", "content-type", "idempotency-key", "x-request-id"],
  exposeHeaders: ["x-request-id", "retry-after", "idempotent-replayed", "www-authenticate"],
  maxAgeSeconds: 600,
};

function appendVary(c: Context) {
  const vary = c.res.headers.get("vary");
  if (!vary) c.res.headers.set("vary", "Origin");
  else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) c.res.headers.set("vary", `${vary}, Origin`);
}

/**
 * CORS for CORS_ALLOW_ORIGINS (docs/ARCHITECTURE.md, Configuration rules). An allowed origin is echoed
 * exactly, with credentials; `*` is never sent, so a credentialed response is never readable by every site.
 * Every response varies on `Origin`, so a cache never serves one origin's answer to another. A preflight from
 * an origin that is not allowed is refused outright (403 `origin_not_allowed`) rather than answered without
 * headers, so the failure is visible in the network log.
 *
 * This only decides what browsers may *read*; whether a cookie session may *change* anything is the
 * authentication step's CSRF rule (AUTH_ORIGIN_ALLOWLIST).
 */
export function cors(options: CorsOptions = {}): MiddlewareHandler<AppEnv> {
  const opts = { ...DEFAULTS, ...options };
  const allowHeaders = new Set(opts.allowHeaders.map((h) => h.toLowerCase()));
  return async function corsMiddleware(c, next) {
    const origin = c.req.header("origin");
    const config = c.get("configResult").config;
    const allowed = origin !== undefined && config !== undefined && isCorsOrigin(config, origin);
    const isPreflight =
      c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;

    if (isPreflight) {
      if (!allowed)
        throw new ApiError("origin_not_allowed", "This origin may not call the API from a browser.");
      const requested = (c.req.header("access-control-request-headers") ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h.length > 0 && allowHeaders.has(h));
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": origin,
          "access-control-allow-credentials": "true",
          "access-control-allow-methods": opts.allowMethods.join(", "),
          "access-control-allow-headers": (requested.length > 0 ? requested : [...allowHeaders]).join(", "),
          "access-control-max-age": String(opts.maxAgeSeconds),
          vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
      });
    }

    await next();
    appendVary(c);
    if (allowed) {
      c.res.headers.set("access-control-allow-origin", origin);
      c.res.headers.set("access-control-allow-credentials", "true");
      c.res.headers.set("access-control-expose-headers", opts.exposeHeaders.join(", "));
    }
  };
}
