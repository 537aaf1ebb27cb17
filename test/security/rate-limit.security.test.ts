import { env } from "cloudflare:workers";
import { createRoute, z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import { authenticate } from "../../src/middleware/authenticate.ts";
import { perAccount, RATE_LIMIT_PERIOD_SECONDS, rateLimit } from "../../src/middleware/rate-limit.ts";
import { APP_ORIGIN, bearer, createKey, database, randomIp, signUp, type TestUser } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";

const AUTH_LIMIT = 20; // wrangler.toml [[ratelimits]] AUTH_RATE_LIMITER
const CHECKOUT_LIMIT = 30; // wrangler.toml [[ratelimits]] CHECKOUT_RATE_LIMITER

/**
 * The limiter counts in windows aligned to the wall clock (as Cloudflare's does, roughly). A burst that
 * straddles a boundary is split over two windows, so each burst starts well inside a fresh one.
 */
async function awaitRoomyWindow(periodSeconds = RATE_LIMIT_PERIOD_SECONDS, needMs = 15_000) {
  const periodMs = periodSeconds * 1000;
  const left = periodMs - (Date.now() % periodMs);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

function signIn(ip: string, email = "nobody@tollgate.test") {
  return call("/api/auth/sign-in/email", {
    method: "POST",
    headers: { "content-type": "application/json", origin: APP_ORIGIN, "cf-connecting-ip": ip },
    body: JSON.stringify({ email, password: "wrong-password-123" }),
  });
}

describe("sign-up and sign-in, per IP (AUTH_RATE_LIMITER)", () => {
  it(`allows ${AUTH_LIMIT} attempts a minute from one IP, then 429 with Retry-After`, async () => {
    await awaitRoomyWindow();
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_LIMIT; i++) statuses.push((await signIn(ip)).status);
    expect(statuses.every((s) => s === 401)).toBe(true);

    const limited = await signIn(ip);
    expect(limited.headers.get("retry-after")).toBe(String(RATE_LIMIT_PERIOD_SECONDS));
    await expectProblem(limited, 429, "rate_limited");

    // Another IP is counted apart.
    expect((await signIn(randomIp())).status).toBe(401);
  });

  it("a limited sign-up is refused before better-auth runs: no user is stored", async () => {
    await awaitRoomyWindow();
    const ip = randomIp();
    for (let i = 0; i < AUTH_LIMIT; i++) await signIn(ip);
    const email = `limited-${crypto.randomUUID()}@tollgate.test`;
    const response = await call("/api/auth/sign-up/email", {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP_ORIGIN, "cf-connecting-ip": ip },
      body: JSON.stringify({ name: "x", email, password: "a-long-enough-password" }),
    });
    await expectProblem(response, 429, "rate_limited");
    expect(await database().query("select 1 from auth_users where email = $1", [email])).toEqual([]);
  });
});

describe("per-account limits for other routes (rateLimit(perAccount(...)))", () => {
  let alice: TestUser;
  let bob: TestUser;
  let aliceKey: string;
  let bobKey: string;
  beforeAll(async () => {
    [alice, bob] = await Promise.all([signUp(), signUp()]);
    [aliceKey, bobKey] = await Promise.all([
      createKey(alice).then((k) => k.secret),
      createKey(bob).then((k) => k.secret),
    ]);
  });

  /** The real app plus one route guarded the way checkout and job creation are. */
  function appWithLimitedRoute(binding: "CHECKOUT_RATE_LIMITER" | "JOBS_RATE_LIMITER") {
    const ran: string[] = [];
    const app = createApp();
    const route = createRoute({
      method: "post",
      path: "/api/test/limited",
      middleware: [authenticate(), rateLimit(perAccount(binding, "test.limited"))] as const,
      responses: {
        200: {
          description: "ok",
          content: { "application/json": { schema: z.object({ ok: z.boolean() }) } },
        },
      },
    });
    app.openapi(route, (c) => {
      ran.push(c.get("caller").accountId);
      return c.json({ ok: true }, 200);
    });
    return { app, ran };
  }

  it(`counts each account apart and never runs the handler once limited (${CHECKOUT_LIMIT}/min)`, async () => {
    const { app, ran } = appWithLimitedRoute("CHECKOUT_RATE_LIMITER");
    const post = (key: string) =>
      app.request("/api/test/limited", { method: "POST", headers: bearer(key) }, env);
    await awaitRoomyWindow();
    for (let i = 0; i < CHECKOUT_LIMIT; i++) expect((await post(aliceKey)).status).toBe(200);
    const limited = await post(aliceKey);
    await expectProblem(limited, 429, "rate_limited");
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(ran.filter((id) => id === alice.accountId)).toHaveLength(CHECKOUT_LIMIT);
    expect((await post(bobKey)).status).toBe(200);
  });

  it("keys the binding by account, not by key or IP", async () => {
    const { app } = appWithLimitedRoute("JOBS_RATE_LIMITER");
    const seen: string[] = [];
    const limiter = {
      limit: vi.fn(async ({ key }: { key: string }) => {
        seen.push(key);
        return { success: false };
      }),
    };
    const response = await app.request(
      "/api/test/limited",
      { method: "POST", headers: bearer(aliceKey) },
      { ...env, JOBS_RATE_LIMITER: limiter },
    );
    await expectProblem(response, 429, "rate_limited");
    expect(seen).toEqual([`test.limited:${alice.accountId}`]);
  });

  it("an unauthenticated request is refused before it is counted", async () => {
    const { app } = appWithLimitedRoute("JOBS_RATE_LIMITER");
    const limiter = { limit: vi.fn(async () => ({ success: true })) };
    const response = await app.request(
      "/api/test/limited",
      { method: "POST" },
      { ...env, JOBS_RATE_LIMITER: limiter },
    );
    expect(response.status).toBe(401);
    expect(limiter.limit).not.toHaveBeenCalled();
  });

  it("without the binding (worker role) the route still answers, and the gap is logged", async () => {
    const { app } = appWithLimitedRoute("JOBS_RATE_LIMITER");
    const log = vi.spyOn(console, "log");
    const response = await app.request(
      "/api/test/limited",
      { method: "POST", headers: bearer(aliceKey) },
      { ...env, JOBS_RATE_LIMITER: undefined },
    );
    expect(response.status).toBe(200);
    expect(log.mock.calls.flat().join("\n")).toContain("rate_limit.binding_missing");
    log.mockRestore();
  });
});
