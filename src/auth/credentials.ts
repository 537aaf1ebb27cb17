import { isAuthOrigin, requestOrigin } from "../config/origins.ts";
import type { Config } from "../config/schema.ts";
import { ApiError } from "../errors/api-error.ts";
import { sha256Hex } from "../lib/encoding.ts";
import { bearerToken } from "./admin-token.ts";
import { parseApiKey } from "./api-keys.ts";
import { sessionTokenFromCookie } from "./session-cookie.ts";

export type CallerVia = "session" | "key";

/** What a request presented, checked as far as is possible without the database. */
export type Credential = { via: "key"; digest: string } | { via: "session"; token: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function unauthorized(detail: string): ApiError {
  return new ApiError("unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="tollgate"' } });
}

/** The 401 for a well-formed credential the database does not know (any longer). */
export function unknownCredential(via: CallerVia): ApiError {
  return unauthorized(
    via === "key" ? "The API key is unknown or revoked." : "The session has expired; sign in again.",
  );
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
 * Throws 401/403 problems; never touches the database, so a route can fold the lookup into its own
 * statement (POST /api/jobs does, in create_job).
 */
export async function readCredential(
  request: Request,
  config: Config,
  allowed: readonly CallerVia[],
): Promise<Credential> {
  const authorization = request.headers.get("authorization") ?? undefined;
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

  const token = await sessionTokenFromCookie(
    request.headers.get("cookie") ?? undefined,
    config.BETTER_AUTH_SECRET,
  );
  if (!token) throw unauthorized("Sign in, or send an API key as `Authorization: Bearer <key>`.");
  if (!allowed.includes("session")) throw unauthorized("This route needs an API key.");
  if (!SAFE_METHODS.has(request.method) && !isAuthOrigin(config, requestOrigin(request.headers))) {
    throw new ApiError(
      "origin_not_allowed",
      "Cookie-authenticated changes must come from an allowed origin.",
    );
  }
  return { via: "session", token };
}

/** What a credential is counted as by rate limits: a key's digest, a session token's hash (never the token). */
export async function credentialBucket(credential: Credential): Promise<string> {
  return credential.via === "key" ? credential.digest : sha256Hex(credential.token);
}
