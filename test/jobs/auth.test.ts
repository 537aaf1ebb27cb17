import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  APP_ORIGIN,
  bearer,
  callWith,
  createKey,
  database,
  FOREIGN_ORIGIN,
  SESSION_COOKIE_NAME,
  session,
} from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";
import { expectLedgerOk, rawSql } from "../support/ledger.ts";
import { api, createEcho, type Funded, fundedUser, jobRequest } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

/**
 * POST /api/jobs resolves its caller inside create_job rather than through `authenticate()`, so it
 * gets the shared security suite's credential checks here (the suite's key routes must answer 2xx
 * without credits, which creating a job cannot). The job id routes are covered too.
 */
let user: Funded;
let revokedKey: string;
let jobId: string;
beforeAll(async () => {
  user = await fundedUser(100);
  const revoked = await createKey(user, "to revoke");
  revokedKey = revoked.secret;
  expect((await call(`/api/keys/${revoked.id}`, { method: "DELETE", headers: session(user) })).status).toBe(
    204,
  );
  jobId = (await createEcho(user)).job.id;
});

const routes = () => [
  {
    name: "POST /api/jobs",
    path: "/api/jobs",
    init: (h: Record<string, string>) => jobRequest(h, { type: "echo" }, "auth-key"),
  },
  {
    name: "GET /api/jobs/:id",
    path: `/api/jobs/${jobId}`,
    init: (h: Record<string, string>) => ({ headers: h }),
  },
  {
    name: "POST /api/jobs/:id/cancel",
    path: `/api/jobs/${jobId}/cancel`,
    init: (h: Record<string, string>) => ({ method: "POST", headers: h }),
  },
];

async function jobCount() {
  const [row] = await rawSql<{ n: string }>("select count(*) as n from jobs");
  return Number(row?.n);
}

describe("job routes refuse bad credentials before anything changes", () => {
  it.each([
    ["no credentials", {}],
    ["a malformed key", { authorization: "Bearer tg_local_tooShort" }],
    ["a well-formed key that does not exist", { authorization: `Bearer tg_local_${"A".repeat(43)}` }],
    ["another scheme", { authorization: `Basic ${btoa("user:pass")}` }],
  ])("%s → 401", async (_, headers) => {
    const before = await jobCount();
    for (const route of routes()) {
      const response = await api(route.path, route.init(headers));
      expect(response.headers.get("www-authenticate"), route.name).toMatch(/^Bearer /);
      await expectProblem(response, 401, "unauthorized");
    }
    expect(await jobCount()).toBe(before);
  });

  it("a revoked key, another environment's key, a forged or expired session → 401", async () => {
    const other = await fundedUser(0);
    await database().query(
      "update auth_sessions set expires_at = now() - interval '1 second' where token = $1",
      [other.sessionToken],
    );
    const forged = `${SESSION_COOKIE_NAME}=${encodeURIComponent(`${user.sessionToken}.${btoa("x".repeat(32))}`)}`;
    for (const route of routes()) {
      await expectProblem(await api(route.path, route.init(bearer(revokedKey))), 401, "unauthorized");
      await expectProblem(
        await api(route.path, route.init(bearer(user.key.replace("tg_local_", "tg_staging_")))),
        401,
        "unauthorized",
      );
      await expectProblem(
        await api(route.path, route.init({ cookie: forged, origin: APP_ORIGIN })),
        401,
        "unauthorized",
      );
      await expectProblem(await api(route.path, route.init(session(other))), 401, "unauthorized");
      const staging = await callWith({ ENVIRONMENT: "staging" }, route.path, route.init(user.auth));
      await expectProblem(staging, 401, "unauthorized");
    }
  });

  it("a cookie-authenticated change from a foreign origin → 403, and nothing changes", async () => {
    const before = await jobCount();
    for (const route of routes().filter((r) => r.name.startsWith("POST"))) {
      const response = await api(route.path, route.init({ cookie: user.cookie, origin: FOREIGN_ORIGIN }));
      await expectProblem(response, 403, "origin_not_allowed");
    }
    expect(await jobCount()).toBe(before);
    const [row] = await rawSql<{ status: string }>("select status from jobs where id = $1", [jobId]);
    expect(row?.status).toBe("queued");
  });

  it("the real credentials work: key and session", async () => {
    expect((await api(`/api/jobs/${jobId}`, { headers: user.auth })).status).toBe(200);
    expect((await api(`/api/jobs/${jobId}`, { headers: session(user) })).status).toBe(200);
    expect((await api(`/api/jobs/${jobId}/cancel`, { method: "POST", headers: session(user) })).status).toBe(
      200,
    );
  });
});
