import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  APP_ORIGIN,
  authPost,
  bearer,
  callWith,
  createKey,
  randomIp,
  session,
  sessionCookieFrom,
  signUp,
} from "../support/auth.ts";
import { call } from "../support/http.ts";

/** Every secret a user's life in this file produces; none may appear in a response or a log line. */
const SECRET_NAMES = [
  "password",
  "cookieValue",
  "cookieDecoded",
  "sessionToken",
  "secondSessionToken",
  "apiKey",
  "apiKeyRandom",
  "adminToken",
  "authSecret",
];

/**
 * "No response, log line or Sentry event carries a secret, a key, a cookie or a password." Runs the
 * whole life of a user — sign-up, a failed and a good sign-in, a key created, used, revoked and used
 * again, admin calls right and wrong, and the database failing mid-request — while recording every
 * console line and every response, then searches all of it for every secret involved.
 */
let spies: ReturnType<typeof vi.spyOn>[] = [];
/** Kept here, not read from the spies: vitest clears spies' calls before each test. */
const logLines: string[] = [];
const transcript: string[] = [];

async function record(response: Response | Promise<Response>) {
  const r = await response;
  const headers = [...r.headers].filter(([name]) => name !== "set-cookie").map(([n, v]) => `${n}: ${v}`);
  transcript.push(`${r.status}\n${headers.join("\n")}\n${await r.clone().text()}`);
  return r;
}

const secrets: Record<string, string> = {};

beforeAll(async () => {
  spies = (["log", "info", "warn", "error", "debug"] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logLines.push(args.map(String).join(" "));
    }),
  );
  const user = await signUp();
  secrets.password = user.password;
  secrets.cookieValue = user.cookieValue;
  secrets.cookieDecoded = decodeURIComponent(user.cookieValue);
  secrets.sessionToken = user.sessionToken;
  secrets.adminToken = env.ADMIN_TOKEN;
  secrets.authSecret = env.BETTER_AUTH_SECRET;

  const unreachable = { LOCAL_NEON_URL: "http://127.0.0.1:1" };
  await record(
    authPost("/api/auth/sign-in/email", { email: user.email, password: `${user.password}-wrong` }),
  );
  const signedIn = await record(
    authPost("/api/auth/sign-in/email", { email: user.email, password: user.password }),
  );
  const second = sessionCookieFrom(signedIn);
  if (second) secrets.secondSessionToken = second.sessionToken;
  await record(
    authPost("/api/auth/sign-up/email", { name: "again", email: user.email, password: user.password }),
  );
  await record(call("/api/auth/get-session", { headers: session(user) }));
  await record(call("/api/auth/list-sessions", { headers: session(user) }));

  const key = await createKey(user, "transcript");
  secrets.apiKey = key.secret;
  secrets.apiKeyRandom = key.secret.slice(key.prefix.length);
  await record(call("/api/keys", { headers: session(user) }));
  await record(call("/api/me", { headers: bearer(key.secret) }));
  await record(call("/api/billing/ledger", { headers: bearer(key.secret) }));
  await record(call(`/api/keys/${key.id}`, { method: "DELETE", headers: session(user) }));
  await record(call("/api/me", { headers: bearer(key.secret) }));

  await record(call("/api/ops/metrics", { headers: bearer(`${env.ADMIN_TOKEN}x`) }));
  await record(call("/api/ops/metrics", { headers: bearer(env.ADMIN_TOKEN) }));

  // The database failing while a credential is in flight: the lookup's parameters must not leak.
  await record(callWith(unreachable, "/api/me", { headers: session(user) }));
  await record(callWith(unreachable, "/api/me", { headers: bearer(key.secret) }));
  await record(
    callWith(unreachable, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP_ORIGIN, "cf-connecting-ip": randomIp() },
      body: JSON.stringify({ email: user.email, password: user.password }),
    }),
  );
  await record(
    callWith(unreachable, "/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP_ORIGIN, "cf-connecting-ip": randomIp() },
      body: JSON.stringify({
        name: "x",
        email: `down-${crypto.randomUUID()}@tollgate.test`,
        password: user.password,
      }),
    }),
  );
});

afterAll(() => {
  for (const spy of spies) spy.mockRestore();
});

describe("secrets stay out of responses and logs", () => {
  it("the flow really ran: responses and log lines were captured", () => {
    expect(transcript.length).toBeGreaterThan(15);
    expect(logLines.length).toBeGreaterThan(3);
    expect(Object.keys(secrets)).toContain("apiKey");
  });

  it("every log line is one JSON event from logEvent: nothing (better-auth included) logs around the scrubbing", () => {
    for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it.each(SECRET_NAMES)("no response body or header carries the %s", (name) => {
    const secret = secrets[name];
    expect(secret, name).toBeTruthy();
    for (const entry of transcript)
      expect(entry.includes(secret as string), `${name} in\n${entry}`).toBe(false);
  });

  it.each(SECRET_NAMES)("no log line carries the %s", (name) => {
    const secret = secrets[name] as string;
    for (const line of logLines) expect(line.includes(secret), `${name} in log line ${line}`).toBe(false);
  });
});
