import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  bearer,
  createKey,
  database,
  SESSION_COOKIE_NAME,
  session,
  signUp,
  type TestUser,
} from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";
import { accountState, ROUTES, type RouteCase, send as sendTarget, targetFor } from "./routes.ts";

const userRoutes = ROUTES.filter((r) => r.auth !== "admin");
const keyRoutes = ROUTES.filter((r) => r.auth === "key");
const sessionOnlyRoutes = ROUTES.filter((r) => r.auth === "session");
const adminRoutes = ROUTES.filter((r) => r.auth === "admin");

let user: TestUser;
let liveKey: string;
let revokedKey: string;

beforeAll(async () => {
  user = await signUp();
  liveKey = (await createKey(user, "live")).secret;
  const revoked = await createKey(user, "to revoke");
  revokedKey = revoked.secret;
  const response = await call(`/api/keys/${revoked.id}`, { method: "DELETE", headers: session(user) });
  expect(response.status).toBe(204);
});

async function expectUnauthorized(response: Response) {
  await expectProblem(response, 401, "unauthorized");
}

/** Sends a fresh valid request of `route` for `user` (its `prepare` run) with these credentials. */
const sendAs = async (route: RouteCase, headers: Record<string, string>, env?: Record<string, unknown>) =>
  sendTarget(await targetFor(route, user), headers, { env });

/** Expects a 401 for a fresh valid request with these credentials, and `user`'s account unchanged. */
async function refused(route: RouteCase, headers: Record<string, string>, env?: Record<string, unknown>) {
  const target = await targetFor(route, user);
  const before = await accountState(user.accountId);
  const response = await sendTarget(target, headers, { env });
  const body = await expectProblem(response, 401, "unauthorized");
  expect(await accountState(user.accountId)).toEqual(before);
  return { response, body };
}

describe.each(userRoutes)("$method $path ($auth)", (route) => {
  it("refuses a request without credentials, with WWW-Authenticate", async () => {
    const { response } = await refused(route, {});
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });

  it.each([
    ["a malformed key", "Bearer tg_local_tooShort"],
    ["a key with no prefix", `Bearer ${"a".repeat(43)}`],
    ["a well-formed key that does not exist", `Bearer tg_local_${"A".repeat(43)}`],
    ["another scheme", `Basic ${btoa("user:pass")}`],
    ["an empty bearer", "Bearer "],
  ])("refuses %s", async (_, authorization) => {
    await refused(route, { authorization });
  });

  it("refuses a revoked key", async () => {
    await refused(route, bearer(revokedKey));
  });

  it("refuses a key of another environment (its digest would match nothing here either)", async () => {
    const staging = liveKey.replace(/^tg_local_/, "tg_staging_");
    await refused(route, bearer(staging));
  });

  it("refuses a valid local key when the Worker runs as staging, before any lookup", async () => {
    const { body } = await refused(route, bearer(liveKey), { ENVIRONMENT: "staging" });
    if (route.auth === "key") expect(String(body.detail)).toContain("another environment");
  });

  it("refuses a session cookie with a forged signature", async () => {
    const forged = `${SESSION_COOKIE_NAME}=${encodeURIComponent(`${user.sessionToken}.${btoa("x".repeat(32))}`)}`;
    await refused(route, session(user, { cookie: forged }));
  });

  it("refuses a session cookie signed with another secret", async () => {
    await refused(route, session(user), {
      BETTER_AUTH_SECRET: "another-secret-another-secret-another-secret",
    });
  });

  it("refuses an expired session", async () => {
    const other = await signUp();
    await database().query(
      "update auth_sessions set expires_at = now() - interval '1 second' where token = $1",
      [other.sessionToken],
    );
    await refused(route, session(other));
  });

  it("accepts the real credentials (the refusals above are about the credentials)", async () => {
    const response = await sendAs(route, route.auth === "key" ? bearer(liveKey) : session(user));
    expect([401, 403]).not.toContain(response.status);
    // A prepared request is complete (credits, an owned resource), so it must succeed outright.
    if (route.prepare) expect(response.status, await response.clone().text()).toBeLessThan(300);
  });
});

describe.each(sessionOnlyRoutes)("$method $path accepts sessions only", (route) => {
  it("refuses a valid API key", async () => {
    await expectUnauthorized(await sendAs(route, bearer(liveKey)));
  });
});

describe.each(keyRoutes)("$method $path accepts a key", (route) => {
  it("answers for the key's account", async () => {
    const response = await sendAs(route, bearer(liveKey));
    expect(response.status, await response.clone().text()).toBeLessThan(300);
  });
});

describe.each(adminRoutes)("$method $path (admin)", (route) => {
  const send = (headers: Record<string, string>, overrides?: Record<string, unknown>) =>
    sendAs(route, headers, overrides);
  const token = env.ADMIN_TOKEN;
  const sameLength = token.replace(/.$/, (ch) => (ch === "x" ? "y" : "x"));

  it.each([
    ["no Authorization header", {}],
    ["an empty bearer", { authorization: "Bearer " }],
    ["a wrong token of the same length", { authorization: `Bearer ${sameLength}` }],
    ["a wrong token of another length", { authorization: `Bearer ${token}-and-more` }],
    ["a prefix of the token", { authorization: `Bearer ${token.slice(0, -1)}` }],
    ["the token in another scheme", { authorization: `Basic ${token}` }],
    ["a user's session", { cookie: "placeholder" }],
    ["a user's API key", { authorization: "placeholder" }],
  ])("refuses %s", async (name, headers) => {
    const resolved: Record<string, string> =
      name === "a user's session" ? session(user) : name === "a user's API key" ? bearer(liveKey) : headers;
    const response = await send(resolved);
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
    await expectUnauthorized(response);
  });

  it("an empty ADMIN_TOKEN_NEXT never matches an empty presented token", async () => {
    await expectUnauthorized(await send({ authorization: "Bearer " }, { ADMIN_TOKEN_NEXT: "" }));
    await expectUnauthorized(await send({}, { ADMIN_TOKEN_NEXT: "" }));
  });

  it("accepts ADMIN_TOKEN and, during a rotation, ADMIN_TOKEN_NEXT", async () => {
    const next = "next-admin-token-for-the-rotation-window-0001";
    expect((await send(bearer(token))).status).not.toBe(401);
    expect((await send(bearer(next), { ADMIN_TOKEN_NEXT: next })).status).not.toBe(401);
    await expectUnauthorized(await send(bearer(next)));
  });
});
