import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { betterAuth } from "better-auth/minimal";
import type { Config } from "../config/index.ts";
import { effectiveOrigins, originFlags } from "../config/origins.ts";
import type { Database } from "../db/client.ts";
import { authCredentials } from "../db/schema/auth-credentials.ts";
import { authSessions } from "../db/schema/auth-sessions.ts";
import { authUsers } from "../db/schema/auth-users.ts";
import { authVerifications } from "../db/schema/auth-verifications.ts";
import { logEvent } from "../telemetry/log.ts";

export const AUTH_BASE_PATH = "/api/auth";
const COOKIE_PREFIX = "tollgate";
/**
 * `__Secure-` because cookies are always Secure: browsers then refuse the cookie from any page not
 * served over https (localhost counts as secure), so it cannot be planted or read over plain http.
 */
export const SESSION_COOKIE = `__Secure-${COOKIE_PREFIX}.session_token`;

const SESSION_DAYS = 7;

/**
 * The better-auth endpoints Tollgate serves. Everything else (e-mail verification, password reset,
 * account deletion, ...) needs machinery Tollgate does not run yet, so it answers 404 rather than
 * half-working.
 */
export const AUTH_ENDPOINTS = [
  "/sign-up/email",
  "/sign-in/email",
  "/sign-out",
  "/get-session",
  "/list-sessions",
  "/revoke-session",
  "/revoke-sessions",
  "/revoke-other-sessions",
  "/change-password",
] as const;

/** Sign-up and sign-in guess passwords or mint sessions: these are the ones counted per IP. */
export const RATE_LIMITED_AUTH_ENDPOINTS = ["/sign-up/email", "/sign-in/email", "/change-password"] as const;

/** better-auth's log lines can quote SQL parameters from a failed query; keep only the first line, cut short. */
export function scrubLogMessage(message: string): string {
  const firstLine = message.split("\n", 1)[0] ?? "";
  return firstLine.replace(/params:.*$/i, "params: [redacted]").slice(0, 200);
}

/**
 * better-auth for one request (docs/ARCHITECTURE.md, One statement per operation: nothing bound to a database
 * at module scope).
 *
 * Transactions: the drizzle adapter runs on the Neon HTTP client, which has no interactive
 * transactions, so `transaction: false`. better-auth then writes sign-up as separate statements (user,
 * then credential, then session). What must be atomic — a user always has its Tollgate account and
 * ledger account — is made atomic by the database instead: an AFTER INSERT trigger on `auth_users`
 * calls `create_account` inside the user's own INSERT. A failure after that leaves a user who can
 * retry signing in or up; it never leaves a user without an account.
 */
export function createAuth(config: Config, database: Database, baseURL: string) {
  const flags = originFlags(config);
  return betterAuth({
    appName: "Tollgate",
    baseURL,
    basePath: AUTH_BASE_PATH,
    secret: config.BETTER_AUTH_SECRET,
    database: drizzleAdapter(database.db, {
      provider: "pg",
      transaction: false,
      schema: {
        user: authUsers,
        session: authSessions,
        account: authCredentials,
        verification: authVerifications,
      },
    }),
    emailAndPassword: { enabled: true, minPasswordLength: 12, maxPasswordLength: 128, autoSignIn: true },
    session: { expiresIn: SESSION_DAYS * 24 * 60 * 60, updateAge: 24 * 60 * 60 },
    // Exact origins only: better-auth's own patterns would treat `*` as a wildcard.
    trustedOrigins: [...effectiveOrigins(config.AUTH_ORIGIN_ALLOWLIST, flags)],
    // Counted by the AUTH_RATE_LIMITER binding in front of better-auth; its in-memory limiter would
    // count per isolate, which on Workers means almost never.
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: {
      level: "error",
      log: (level, message) => logEvent("auth.log", { level, message: scrubLogMessage(message) }),
    },
    // Refusals (4xx) are answered by better-auth itself; anything else is thrown to the route, which
    // logs it scrubbed. Otherwise the router prints the raw error, and a failed query's message quotes
    // its parameters (e-mail addresses, tokens) straight to the log.
    onAPIError: { throw: true },
    advanced: {
      cookiePrefix: COOKIE_PREFIX,
      useSecureCookies: true,
      defaultCookieAttributes: { httpOnly: true, secure: true, sameSite: "lax", path: "/" },
      ipAddress: { ipAddressHeaders: ["cf-connecting-ip"] },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
