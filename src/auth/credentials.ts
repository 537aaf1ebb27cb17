import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors/api-error.ts";
import { bearerToken } from "./admin-token.ts";
import { parseApiKey } from "./api-keys.ts";
import { isAuthOrigin, requestOrigin } from "./origins.ts";
import { sessionTokenFromCookie } from "./session-cookie.ts";

export type CallerVia = "session" | "key";

/** What a request presented, checked as far as is possible without the database. */
export type Credential = { via: "key"; digest: string } | { via: "session"; token: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function unauthorized(detail: string): ApiError {
  return new ApiError("unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="tollgate"' } });
}

/**
 * Reads the caller's credential: an `Authorization: Bearer tg_...` API key, else the session cookie.
 * An Authorization header always wins, and a malformed one is refused rather than ignored, so a
 * client never silently falls back to a cookie it did not mean to use.
 *
 * CSRF: a cookie is sent by the browser whoever made the page, so a cookie-authenticated request that
 * changes state must come from an origin in AUTH_ORIGIN_ALLOWLIST (Origin, else Referer); otherwise
 * 403 `origin_not_allowed`. API keys are not ambient, so they need no such check.
 *
 * Throws 401/403 problems; never touches the database. The jobs and billing code can call this and
 * fold the lookup into their own statement (see `authenticate.ts`).
 */
export async function readCredential(c: Context<AppEnv>, allowed: readonly CallerVia[]): Promise<Credential> {
  const { config } = c.get("services");
  const authorization = c.req.header("authorization");
  if (authorization !== undefined) {
    const token = bearerToken(authorization);
    if (!token) throw unauthorized("The Authorization header must be `Bearer <API key>`.");
    if (!allowed.includes("key"))
      throw unauthorized("This route needs a signed-in session; API keys are not accepted.");
    const parsed = await parseApiKey(token, config.ENVIRONMENT);
    if (!parsed.ok) {
      throw unauthorized(
        parsed.reason === "wrong_environment"
          ? `The API key belongs to another environment; this is ${config.ENVIRONMENT}.`
          : "The API key is malformed.",
      );
    }
    return { via: "key", digest: parsed.digest };
  }

  const token = await sessionTokenFromCookie(c.req.header("cookie"), config.BETTER_AUTH_SECRET);
  if (!token) throw unauthorized("Sign in, or send an API key as `Authorization: Bearer <key>`.");
  if (!allowed.includes("session")) throw unauthorized("This route needs an API key.");
  if (!SAFE_METHODS.has(c.req.method) && !isAuthOrigin(config, requestOrigin(c.req.raw.headers))) {
    throw new ApiError(
      "origin_not_allowed",
      "Cookie-authenticated changes must come from an allowed origin.",
    );
  }
  return { via: "session", token };
}
