import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors/api-error.ts";
import { type CallerVia, type Credential, readCredential, unauthorized } from "./credentials.ts";

/** Who is calling: the account every query of the request is scoped to. */
export type Caller = { accountId: string; via: CallerVia; keyId?: string };

export type AuthenticateVariables = { caller: Caller };

/**
 * The lookups, as SQL functions created by the `auth_functions` migration, so other statements can
 * fold them in and stay one round trip (DESIGN §4). For example, job creation:
 *
 *   with caller as (select account_id, key_id from account_for_api_key($1))   -- $1: hex digest
 *   insert into jobs (account_id, ...) select caller.account_id, ... from caller ...
 *
 * `account_for_api_key(digest text)` returns zero or one row `(account_id uuid, key_id uuid)` for a
 * key that exists and is not revoked; `account_for_session(token text)` returns the account id of an
 * unexpired session, or null. Get the digest or token from `readCredential()`.
 */
export const ACCOUNT_FOR_API_KEY_SQL = "select account_id::text, key_id::text from account_for_api_key($1)";
export const ACCOUNT_FOR_SESSION_SQL = "select account_for_session($1)::text as account_id";

type CallerRow = { account_id: string | null; key_id?: string | null };

/**
 * Resolves a credential to its account in ONE statement. Uses the raw Neon client on purpose: a
 * failed drizzle query's error message quotes its parameters, which here are a session token or a key
 * digest, and error messages end up in logs.
 */
export async function resolveCaller(c: Context<AppEnv>, credential: Credential): Promise<Caller | undefined> {
  const { sql } = c.get("services").database;
  let rows: CallerRow[];
  try {
    rows = (await (credential.via === "key"
      ? sql.query(ACCOUNT_FOR_API_KEY_SQL, [credential.digest])
      : sql.query(ACCOUNT_FOR_SESSION_SQL, [credential.token]))) as CallerRow[];
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ApiError("service_unavailable", "Could not check the credentials; try again.", {
      cause: new Error(`caller lookup failed${code ? ` (${code})` : ""}`),
    });
  }
  const row = rows[0];
  if (!row?.account_id) return undefined;
  return credential.via === "key"
    ? { accountId: row.account_id, via: "key", keyId: row.key_id ?? undefined }
    : { accountId: row.account_id, via: "session" };
}

/**
 * Resolves the caller (session cookie or API key) to `{accountId, via, keyId?}` on `c.get("caller")`,
 * or answers 401; a cookie-authenticated change from a foreign origin answers 403. Put it in a
 * route's `middleware`, before anything that needs the account (e.g. `rateLimit(perAccount(...))`).
 */
export function authenticate(options: { via?: readonly CallerVia[] } = {}): MiddlewareHandler<AppEnv> {
  const allowed = options.via ?? (["session", "key"] as const);
  return async function authenticateMiddleware(c, next) {
    const credential = await readCredential(c, allowed);
    const caller = await resolveCaller(c, credential);
    if (!caller) {
      throw unauthorized(
        credential.via === "key"
          ? "The API key is unknown or revoked."
          : "The session has expired; sign in again.",
      );
    }
    c.set("caller", caller);
    return next();
  };
}
