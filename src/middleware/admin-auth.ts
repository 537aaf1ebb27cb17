import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { bearerToken, isAdminToken } from "../auth/admin-token.ts";
import { ApiError } from "../errors/api-error.ts";

/** Guards `/api/ops/*` and `/api/admin/*` with the admin token (or the next one, during a rotation). */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuthMiddleware(c, next) {
    const presented = bearerToken(c.req.header("authorization")) ?? "";
    if (!(await isAdminToken(c.get("services").config, presented))) {
      throw new ApiError("unauthorized", "A valid admin token is required.", {
        headers: { "www-authenticate": 'Bearer realm="tollgate-admin"' },
      });
    }
    return next();
  };
}
