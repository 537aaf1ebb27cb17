import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { tokenMatches } from "../../src/auth/admin-token.ts";
import { bearer, session, signUp } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";

const TOKEN = env.ADMIN_TOKEN;
const NEXT = "the-next-admin-token-during-a-rotation-0001";

/** The real app plus one probe under each admin prefix, so the guard is tested whatever routes exist. */
function appWithProbes() {
  const app = createApp();
  app.get("/api/ops/probe", (c) => c.json({ ok: true }));
  app.post("/api/admin/probe", (c) => c.json({ ok: true }));
  return app;
}

const request = (path: string, headers: Record<string, string>, overrides: Record<string, unknown> = {}) =>
  appWithProbes().request(
    path,
    { method: path.startsWith("/api/admin") ? "POST" : "GET", headers },
    { ...env, ...overrides },
  );

describe.each(["/api/ops/probe", "/api/admin/probe"])("the admin token on %s", (path) => {
  it("accepts ADMIN_TOKEN", async () => {
    expect((await request(path, bearer(TOKEN))).status).toBe(200);
  });

  it.each([
    ["missing", {}],
    ["empty", { authorization: "Bearer " }],
    ["a bare scheme", { authorization: "Bearer" }],
    ["wrong, same length", { authorization: `Bearer ${"x".repeat(TOKEN.length)}` }],
    ["wrong, shorter", { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ["wrong, longer", { authorization: `Bearer ${TOKEN}0` }],
    ["in another scheme", { authorization: `Token ${TOKEN}` }],
    ["with a second token after it", { authorization: `Bearer ${TOKEN} ${TOKEN}` }],
  ])("refuses a token that is %s (401, WWW-Authenticate)", async (_, headers) => {
    const response = await request(path, headers);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    await expectProblem(response, 401, "unauthorized");
  });

  it("accepts ADMIN_TOKEN_NEXT during a rotation, and the old token too", async () => {
    expect((await request(path, bearer(NEXT), { ADMIN_TOKEN_NEXT: NEXT })).status).toBe(200);
    expect((await request(path, bearer(TOKEN), { ADMIN_TOKEN_NEXT: NEXT })).status).toBe(200);
    await expectProblem(await request(path, bearer(NEXT)), 401, "unauthorized");
  });

  it("an empty ADMIN_TOKEN_NEXT never matches an empty or missing token", async () => {
    await expectProblem(
      await request(path, { authorization: "Bearer " }, { ADMIN_TOKEN_NEXT: "" }),
      401,
      "unauthorized",
    );
    await expectProblem(await request(path, {}, { ADMIN_TOKEN_NEXT: "" }), 401, "unauthorized");
  });

  it("a user's session or API key is not an admin token", async () => {
    const user = await signUp();
    await expectProblem(await request(path, session(user)), 401, "unauthorized");
  });
});

describe("the admin guard covers the whole prefix", () => {
  it("an unknown path under /api/ops is 401 without the token (no route discovery) and 404 with it", async () => {
    await expectProblem(await call("/api/ops/does-not-exist"), 401, "unauthorized");
    await expectProblem(await call("/api/ops/does-not-exist", { headers: bearer(TOKEN) }), 404, "not_found");
    await expectProblem(await call("/api/admin/does-not-exist", { method: "POST" }), 401, "unauthorized");
  });
});

describe("tokenMatches", () => {
  it("compares digests: equal only for equal non-empty strings", async () => {
    expect(await tokenMatches("abc", "abc")).toBe(true);
    expect(await tokenMatches("abc", "abd")).toBe(false);
    expect(await tokenMatches("abc", "abcd")).toBe(false);
    expect(await tokenMatches("", "")).toBe(false);
    expect(await tokenMatches("", undefined)).toBe(false);
  });
});
