import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { neon } from "@neondatabase/serverless";
import { expect } from "vitest";
import { SESSION_COOKIE } from "../../src/auth/better-auth.ts";
import worker from "../../src/index.ts";
import { call } from "./http.ts";

/** An origin in the test env's AUTH_ORIGIN_ALLOWLIST and CORS_ALLOW_ORIGINS (wrangler.toml [vars]). */
export const SESSION_COOKIE_NAME = SESSION_COOKIE;

export const APP_ORIGIN = "http://localhost:8787";
export const FOREIGN_ORIGIN = "https://evil.example";

/** Every test client gets its own IP, so the per-IP sign-in limit only bites where a test means it to. */
export function randomIp() {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `10.${octet()}.${octet()}.${octet()}`;
}

export type TestUser = {
  email: string;
  password: string;
  userId: string;
  accountId: string;
  /** `name=value` for a Cookie header. */
  cookie: string;
  /** The cookie's value as sent (`<token>.<signature>`, URL-encoded). */
  cookieValue: string;
  /** The session token inside the cookie (what the database stores). */
  sessionToken: string;
  setCookie: string;
};

export function database() {
  return neon(env.DATABASE_URL);
}

export function sessionCookieFrom(response: Response) {
  const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  if (!setCookie) return undefined;
  const cookieValue = setCookie.slice(SESSION_COOKIE.length + 1).split(";")[0] ?? "";
  const decoded = decodeURIComponent(cookieValue);
  return {
    setCookie,
    cookieValue,
    cookie: `${SESSION_COOKIE}=${cookieValue}`,
    sessionToken: decoded.slice(0, decoded.lastIndexOf(".")),
  };
}

export function authPost(path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: APP_ORIGIN,
      "cf-connecting-ip": randomIp(),
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

export async function signUp(overrides: { email?: string; password?: string } = {}): Promise<TestUser> {
  const email = overrides.email ?? `user-${crypto.randomUUID()}@tollgate.test`;
  const password = overrides.password ?? `pw-${crypto.randomUUID()}`;
  const response = await authPost("/api/auth/sign-up/email", { name: "Test User", email, password });
  expect(response.status, await response.clone().text()).toBe(200);
  const body = (await response.json()) as { user: { id: string } };
  const cookie = sessionCookieFrom(response);
  if (!cookie) throw new Error("sign-up set no session cookie");
  const rows = (await database().query("select id from accounts where user_id = $1", [body.user.id])) as {
    id: string;
  }[];
  const accountId = rows[0]?.id;
  if (!accountId) throw new Error("sign-up made no account");
  return { email, password, userId: body.user.id, accountId, ...cookie };
}

/** Headers of a browser on the app's origin with the user's session. */
export function session(user: TestUser, extra: Record<string, string> = {}) {
  return { cookie: user.cookie, origin: APP_ORIGIN, ...extra };
}

export function bearer(secret: string, extra: Record<string, string> = {}) {
  return { authorization: `Bearer ${secret}`, ...extra };
}

export async function createKey(user: TestUser, name = "test key") {
  const response = await call("/api/keys", {
    method: "POST",
    headers: { "content-type": "application/json", ...session(user) },
    body: JSON.stringify({ name }),
  });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { id: string; secret: string; prefix: string; name: string };
}

/** Through the Worker's default export with some variables replaced (a fresh env object, so config is re-read). */
export async function callWith(overrides: Record<string, unknown>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://tollgate.test${path}`, init),
    { ...env, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}
