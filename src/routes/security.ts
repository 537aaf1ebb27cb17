import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { SESSION_COOKIE } from "../auth/better-auth.ts";

/** The three ways to authenticate, named in the OpenAPI document so routes can list theirs in `security`. */
export function registerSecuritySchemes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: SESSION_COOKIE,
    description:
      "Set by /api/auth/sign-in/email. State-changing requests must come from an origin in AUTH_ORIGIN_ALLOWLIST.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "`Authorization: Bearer tg_<environment>_<secret>`, created with POST /api/keys.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description:
      "`Authorization: Bearer <ADMIN_TOKEN>` (or ADMIN_TOKEN_NEXT during a rotation); /api/ops/* and /api/admin/*.",
  });
}

type SecurityRequirement = Record<string, string[]>[];

/** `security` for routes behind `authenticate()` or the admin token, naming the schemes above. */
export const SESSION_ONLY: SecurityRequirement = [{ sessionCookie: [] }];
export const SESSION_OR_KEY: SecurityRequirement = [{ sessionCookie: [] }, { apiKey: [] }];
export const ADMIN_TOKEN: SecurityRequirement = [{ adminToken: [] }];
