import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import {
  AUTH_BASE_PATH,
  AUTH_ENDPOINTS,
  createAuth,
  RATE_LIMITED_AUTH_ENDPOINTS,
  scrubLogMessage,
} from "../auth/better-auth.ts";
import { isAuthOrigin, requestOrigin } from "../config/origins.ts";
import { ApiError } from "../errors/api-error.ts";
import type { ErrorCode } from "../errors/codes.ts";
import { problemResponse } from "../errors/problem.ts";
import { perIp, rateLimit } from "../middleware/rate-limit.ts";
import { logEvent } from "../telemetry/log.ts";
import { createRouter } from "./router.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * `/api/auth/*` is for AUTH_ORIGIN_ALLOWLIST only: a request naming any other origin is refused
 * before better-auth sees it (so a foreign page can neither sign a visitor in to an attacker's
 * account nor act on their session). A request naming no origin is a non-browser client, allowed
 * unless it carries a cookie and changes state: browsers always name the origin of such requests.
 */
function authOriginGuard(): MiddlewareHandler<AppEnv> {
  return async function authOriginGuardMiddleware(c, next) {
    const { config } = c.get("services");
    const origin = requestOrigin(c.req.raw.headers);
    const hasCookie = c.req.header("cookie") !== undefined;
    const allowed =
      origin === undefined ? !(hasCookie && !SAFE_METHODS.has(c.req.method)) : isAuthOrigin(config, origin);
    if (!allowed) throw new ApiError("origin_not_allowed", "This origin may not use Tollgate sign-in.");
    return next();
  };
}

const STATUS_CODES: Record<number, ErrorCode> = {
  400: "validation_failed",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  422: "conflict",
  429: "rate_limited",
};

/** better-auth returns session tokens in JSON for bearer clients; Tollgate's live in HttpOnly cookies only. */
function withoutTokens(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTokens);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "token")
        .map(([key, v]) => [key, withoutTokens(v)]),
    );
  }
  return value;
}

/** Re-shapes better-auth's answer into Tollgate's contract: problem+json errors, no tokens in bodies. */
async function toTollgateResponse(c: Context<AppEnv>, response: Response): Promise<Response> {
  const setCookies = response.headers.getSetCookie();
  const isJson = (response.headers.get("content-type") ?? "").includes("json");
  if (response.status >= 400) {
    const body = (isJson ? await response.json().catch(() => ({})) : {}) as { message?: unknown };
    const code = STATUS_CODES[response.status] ?? (response.status >= 500 ? "internal_error" : "bad_request");
    if (code === "internal_error") throw new Error(`sign-in service failed with ${response.status}`);
    const problem = problemResponse(c, code, typeof body.message === "string" ? body.message : undefined);
    for (const cookie of setCookies) problem.headers.append("set-cookie", cookie);
    return problem;
  }
  if (!isJson) return response;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  const body = withoutTokens(await response.json());
  return new Response(JSON.stringify(body), { status: response.status, headers });
}

/**
 * Hands the request to better-auth, built for this request. The body guard has already read the
 * body (Hono caches it), so the Request is rebuilt from the cached bytes.
 */
async function handleAuth(c: Context<AppEnv>): Promise<Response> {
  const endpoint = c.req.path.slice(AUTH_BASE_PATH.length);
  if (!(AUTH_ENDPOINTS as readonly string[]).includes(endpoint)) {
    throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  }
  const { config, database } = c.get("services");
  if (!config.BETTER_AUTH_SECRET) throw new ApiError("service_unavailable", "Sign-in is not configured.");
  const body = SAFE_METHODS.has(c.req.method) ? undefined : await c.req.arrayBuffer();
  const request = new Request(c.req.url, {
    method: c.req.method,
    headers: c.req.raw.headers,
    // An empty body must stay absent: better-auth refuses a present body without a Content-Type.
    body: body && body.byteLength > 0 ? body : undefined,
  });
  const auth = createAuth(config, database, new URL(c.req.url).origin);
  let response: Response;
  try {
    response = await auth.handler(request);
  } catch (error) {
    const name = error instanceof Error ? error.name : "unknown";
    const message = error instanceof Error ? scrubLogMessage(error.message) : "";
    logEvent("auth.error", { request_id: c.get("requestId"), error: name, message });
    throw new ApiError("service_unavailable", "Sign-in is unavailable right now; try again.");
  }
  return toTollgateResponse(c, response);
}

export const authRoutes = createRouter();
authRoutes.use(`${AUTH_BASE_PATH}/*`, authOriginGuard());
// One bucket per IP across sign-up, sign-in and password change: guessing is guessing, whichever door.
for (const endpoint of RATE_LIMITED_AUTH_ENDPOINTS) {
  authRoutes.use(`${AUTH_BASE_PATH}${endpoint}`, rateLimit(perIp("AUTH_RATE_LIMITER", "auth")));
}
authRoutes.on(["GET", "POST"], `${AUTH_BASE_PATH}/*`, handleAuth);
