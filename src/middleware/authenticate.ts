import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { resolveCaller } from "../auth/caller.ts";
import { type CallerVia, credentialBucket, readCredential, unknownCredential } from "../auth/credentials.ts";

/**
 * Resolves the caller (session cookie or API key) to `{accountId, via, keyId?}` on `c.get("caller")`,
 * or answers 401; a cookie-authenticated change from a foreign origin answers 403. Put it in a
 * route's `middleware`, before anything that needs the account (e.g. `rateLimit(perAccount(...))`).
 */
export function authenticate(options: { via?: readonly CallerVia[] } = {}): MiddlewareHandler<AppEnv> {
  const allowed = options.via ?? (["session", "key"] as const);
  return async function authenticateMiddleware(c, next) {
    const { config, database } = c.get("services");
    const credential = await readCredential(c.req.raw, config, allowed);
    const caller = await resolveCaller(database, credential);
    if (!caller) throw unknownCredential(credential.via);
    c.set("caller", caller);
    return next();
  };
}

/**
 * Reads the caller's credential without the database (401/403 as `authenticate()` would answer),
 * leaving its lookup to the route's own statement, so that route stays one round trip. Sets
 * `credential`, and `rateLimitKey` for limits counted per credential.
 */
export function credentialOnly(): MiddlewareHandler<AppEnv> {
  return async function credentialOnlyMiddleware(c, next) {
    const credential = await readCredential(c.req.raw, c.get("services").config, ["session", "key"]);
    c.set("credential", credential);
    c.set("rateLimitKey", await credentialBucket(credential));
    return next();
  };
}
