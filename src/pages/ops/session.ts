import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../../app-env.ts";
import { bearerToken, isAdminToken } from "../../auth/admin-token.ts";
import type { Config } from "../../config/index.ts";
import { base64url, fromBase64url } from "../../lib/encoding.ts";

/**
 * How an operator signs in to the /ops console (README "Operations"):
 *   - `Authorization: Bearer <ADMIN_TOKEN>` on every request (scripts, a header-setting extension), or
 *   - once `GET /ops?token=<ADMIN_TOKEN>`: answered with a 303 to `/ops` that sets a console cookie,
 *     so the token leaves the address bar at once and is never sent again.
 * The cookie does not hold the token: it is `v1.<expiry>.<HMAC-SHA256(ADMIN_TOKEN, expiry)>`,
 * HttpOnly, SameSite=Strict, Path=/ops, 12 hours. Rotating ADMIN_TOKEN (once ADMIN_TOKEN_NEXT is
 * withdrawn) signs every console out. The cookie is accepted on /ops only, never on /api/*.
 */
export const CONSOLE_COOKIE = "tollgate_ops";
export const CONSOLE_PATH = "/ops";
export const CONSOLE_SESSION_SECONDS = 12 * 60 * 60;

const encoder = new TextEncoder();

function hmacKey(secret: string, usage: "sign" | "verify") {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    usage,
  ]);
}

const signedText = (expires: number) => `tollgate-ops-console:v1:${expires}`;

export async function signSession(config: Pick<Config, "ADMIN_TOKEN">, now = Date.now()): Promise<string> {
  const expires = Math.floor(now / 1000) + CONSOLE_SESSION_SECONDS;
  const key = await hmacKey(config.ADMIN_TOKEN, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(signedText(expires)));
  return `v1.${expires}.${base64url(mac)}`;
}

/** HMAC verification is constant-time; both tokens are always tried, like the admin middleware does. */
export async function verifySession(
  config: Pick<Config, "ADMIN_TOKEN" | "ADMIN_TOKEN_NEXT">,
  value: string | undefined,
  now = Date.now(),
): Promise<boolean> {
  const match = value ? /^v1\.(\d{1,12})\.([A-Za-z0-9_-]+)$/.exec(value) : null;
  if (!match?.[1] || !match[2]) return false;
  const expires = Number(match[1]);
  const mac = /^[A-Za-z0-9_-]{1,100}$/.test(match[2]) ? fromBase64url(match[2]) : undefined;
  if (!mac || expires * 1000 <= now) return false;
  const secrets = [config.ADMIN_TOKEN, config.ADMIN_TOKEN_NEXT].filter((s): s is string => Boolean(s));
  const results = await Promise.all(
    secrets.map(async (secret) =>
      crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), mac, encoder.encode(signedText(expires))),
    ),
  );
  return results.some(Boolean);
}

export function sessionCookie(c: Context, value: string, maxAge = CONSOLE_SESSION_SECONDS): string {
  const secure = new URL(c.req.url).protocol === "https:" ? "; Secure" : "";
  return `${CONSOLE_COOKIE}=${value}; Path=${CONSOLE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
}

export type ConsoleCaller = "bearer" | "cookie";

/** Who is calling, or undefined: a bearer header decides alone (a wrong one is not rescued by a cookie). */
export async function consoleCaller(c: Context<AppEnv>): Promise<ConsoleCaller | undefined> {
  const { config } = c.get("services");
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const token = bearerToken(header);
    return token && (await isAdminToken(config, token)) ? "bearer" : undefined;
  }
  return (await verifySession(config, getCookie(c, CONSOLE_COOKIE))) ? "cookie" : undefined;
}

/**
 * CSRF for the console's buttons when the cookie authenticates them: the request must come from the
 * console's own origin (`Origin`, else `Sec-Fetch-Site: same-origin`). SameSite=Strict already keeps
 * the cookie off cross-site requests; this also refuses same-site neighbours. A bearer header is not
 * sent by browsers on their own, so bearer requests need no check.
 */
export function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  if (origin !== undefined) return origin === new URL(c.req.url).origin;
  return c.req.header("sec-fetch-site") === "same-origin";
}
