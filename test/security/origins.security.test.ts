import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  callWith,
  createKey,
  database,
  randomIp,
  session,
  signUp,
  type TestUser,
} from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";
import { accountState, isStateChanging, ROUTES, send as sendTarget, targetFor } from "./routes.ts";

/** A production-shaped allowlist: one https origin, no localhost, no null. */
const PROD_ORIGINS = {
  AUTH_ORIGIN_ALLOWLIST: "https://app.tollgate.example",
  CORS_ALLOW_ORIGINS: "https://app.tollgate.example",
  PUBLIC_ORIGIN_ALLOWLIST: "https://app.tollgate.example",
  ALLOW_LOCALHOST_ORIGINS: "false",
  ALLOW_NULL_ORIGIN: "false",
};

const ALLOWED: [string, string][] = [
  ["the allowlisted origin", "https://app.tollgate.example"],
  ["the allowlisted origin with an uppercase host", "https://APP.Tollgate.EXAMPLE"],
  ["the allowlisted origin with its default port spelled out", "https://app.tollgate.example:443"],
];

const REFUSED: [string, string][] = [
  ["a foreign origin", "https://evil.example"],
  ["a look-alike suffix", "https://app.tollgate.example.evil.com"],
  ["a look-alike prefix", "https://evilapp.tollgate.example"],
  ["a subdomain", "https://x.app.tollgate.example"],
  ["another scheme", "http://app.tollgate.example"],
  ["another port", "https://app.tollgate.example:8443"],
  ["the null origin", "null"],
  ["localhost while ALLOW_LOCALHOST_ORIGINS=false", "http://localhost:8787"],
  ["an origin with a path", "https://app.tollgate.example/login"],
  ["an origin with credentials", "https://user@app.tollgate.example"],
  ["a wildcard", "*"],
];

let user: TestUser;
beforeAll(async () => {
  user = await signUp();
});

describe("CORS (CORS_ALLOW_ORIGINS)", () => {
  const get = (origin: string, overrides = {}) =>
    callWith({ ...PROD_ORIGINS, ...overrides }, "/api/health", { headers: { origin } });
  const preflight = (origin: string, overrides = {}) =>
    callWith({ ...PROD_ORIGINS, ...overrides }, "/api/keys", {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-evil",
      },
    });

  it.each(ALLOWED)("%s: exact echo with credentials and Vary: Origin", async (_, origin) => {
    const response = await get(origin);
    expect(response.headers.get("access-control-allow-origin")).toBe(origin);
    expect(response.headers.get("access-control-allow-credentials")).toBe("true");
    expect(response.headers.get("vary")).toMatch(/\bOrigin\b/);
  });

  it.each(REFUSED)("%s: no CORS headers, still Vary: Origin", async (_, origin) => {
    const response = await get(origin);
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(response.headers.get("access-control-allow-credentials")).toBeNull();
    expect(response.headers.get("vary")).toMatch(/\bOrigin\b/);
  });

  it.each(ALLOWED)(
    "preflight from %s: 204 with the allowed methods and only known headers",
    async (_, origin) => {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("access-control-allow-methods")).toContain("POST");
      expect(response.headers.get("access-control-allow-headers")).toBe("content-type");
    },
  );

  it.each(REFUSED)("preflight from %s: 403 origin_not_allowed", async (_, origin) => {
    const response = await preflight(origin);
    await expectProblem(response, 403, "origin_not_allowed");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("never answers `*`, even when the list holds a wildcard", async () => {
    const response = await get("https://evil.example", { CORS_ALLOW_ORIGINS: "*" });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("null and localhost pass only when their flags allow them", async () => {
    expect(
      (await get("null", { ALLOW_NULL_ORIGIN: "true" })).headers.get("access-control-allow-origin"),
    ).toBe("null");
    const localhost = { CORS_ALLOW_ORIGINS: "http://localhost:8787", ALLOW_LOCALHOST_ORIGINS: "true" };
    expect((await get("http://localhost:8787", localhost)).headers.get("access-control-allow-origin")).toBe(
      "http://localhost:8787",
    );
  });
});

describe("cookie sessions and CSRF (AUTH_ORIGIN_ALLOWLIST)", () => {
  const changing = ROUTES.filter((r) => r.auth !== "admin" && isStateChanging(r));

  describe.each(changing)("$method $path", (route) => {
    /** A fresh valid request of the route (its `prepare` run) with the user's cookie and `headers`. */
    const send = async (headers: Record<string, string>) =>
      sendTarget(await targetFor(route, user), { cookie: user.cookie, ...headers }, { env: PROD_ORIGINS });

    /** Expects 403 origin_not_allowed and the user's keys, jobs and balance untouched. */
    const refused = async (headers: Record<string, string>) => {
      const target = await targetFor(route, user);
      const before = await accountState(user.accountId);
      const response = await sendTarget(target, { cookie: user.cookie, ...headers }, { env: PROD_ORIGINS });
      await expectProblem(response, 403, "origin_not_allowed");
      expect(await accountState(user.accountId)).toEqual(before);
    };

    it.each(REFUSED)("refuses a cookie change from %s and changes nothing", async (_, origin) => {
      await refused({ origin });
    });

    it("refuses a cookie change naming no origin at all", async () => {
      await refused({});
    });

    it("refuses a cookie change whose Referer is foreign", async () => {
      await refused({ referer: "https://evil.example/page" });
    });

    it.each(ALLOWED)("lets %s through", async (_, origin) => {
      const response = await send({ origin });
      expect(response.status).not.toBe(403);
      expect(response.status).not.toBe(401);
      if (route.prepare) expect(response.status, await response.clone().text()).toBeLessThan(300);
    });

    it("lets an allowlisted Referer through when Origin is absent", async () => {
      const response = await send({ referer: "https://app.tollgate.example/settings/keys" });
      expect(response.status).not.toBe(403);
      if (route.prepare) expect(response.status, await response.clone().text()).toBeLessThan(300);
    });
  });

  it("an API key needs no origin: it is not sent by the browser on its own", async () => {
    const key = await createKey(user);
    const response = await callWith(PROD_ORIGINS, "/api/me", {
      headers: bearer(key.secret, { origin: "https://evil.example" }),
    });
    expect(response.status).toBe(200);
  });

  it("a cookie read (GET) from a foreign origin is answered, but without CORS headers the page cannot read it", async () => {
    const response = await callWith(PROD_ORIGINS, "/api/me", {
      headers: { cookie: user.cookie, origin: "https://evil.example" },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("/api/auth/* (AUTH_ORIGIN_ALLOWLIST)", () => {
  const signIn = (headers: Record<string, string>) =>
    callWith(PROD_ORIGINS, "/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": randomIp(), ...headers },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });

  it.each(REFUSED)("refuses sign-in from %s, setting no cookie", async (_, origin) => {
    const response = await signIn({ origin });
    await expectProblem(response, 403, "origin_not_allowed");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it.each(ALLOWED)("signs in from %s", async (_, origin) => {
    const response = await signIn({ origin });
    expect(response.status).toBe(200);
    expect(response.headers.getSetCookie().length).toBeGreaterThan(0);
  });

  it("refuses sign-up from a foreign origin and stores no user", async () => {
    const email = `csrf-${crypto.randomUUID()}@tollgate.test`;
    const response = await callWith(PROD_ORIGINS, "/api/auth/sign-up/email", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: "https://evil.example",
        "cf-connecting-ip": randomIp(),
      },
      body: JSON.stringify({ name: "x", email, password: "a-long-enough-password" }),
    });
    await expectProblem(response, 403, "origin_not_allowed");
    const rows = (await database().query("select 1 from auth_users where email = $1", [email])) as unknown[];
    expect(rows).toEqual([]);
  });

  it("refuses sign-out with the cookie but without an origin (cookie + state change)", async () => {
    const response = await call("/api/auth/sign-out", { method: "POST", headers: { cookie: user.cookie } });
    await expectProblem(response, 403, "origin_not_allowed");
    expect((await call("/api/me", { headers: session(user) })).status).toBe(200);
  });

  it("lets a non-browser client (no origin, no cookie) sign in", async () => {
    const response = await call("/api/auth/sign-in/email", {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    expect(response.status).toBe(200);
  });
});
