import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors/api-error.ts";

const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * Compares a presented token with the expected one without leaking either: both sides are hashed
 * first, so the timing-safe compare always sees 32 bytes — no length oracle, no exception on
 * different lengths — and an empty expected value never matches.
 */
export async function tokenMatches(presented: string, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Guards `/api/ops/*` and `/api/admin/*`. ADMIN_TOKEN_NEXT is accepted too, so a rotation can put the
 * new token in place before the old one is withdrawn. Both comparisons always run.
 */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const { config } = c.get("services");
    const presented = bearerToken(c.req.header("authorization")) ?? "";
    const [current, next_] = await Promise.all([
      tokenMatches(presented, config.ADMIN_TOKEN),
      tokenMatches(presented, config.ADMIN_TOKEN_NEXT),
    ]);
    if (!presented || !(current || next_)) {
      throw new ApiError("unauthorized", "A valid admin token is required.", {
        headers: { "www-authenticate": 'Bearer realm="tollgate-admin"' },
      });
    }
    return next();
  };
}
