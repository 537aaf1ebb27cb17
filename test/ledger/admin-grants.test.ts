import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { adminRoutes } from "../../src/routes/admin/index.ts";
import { OPENAPI_INFO } from "../../src/routes/docs/index.ts";
import { expectProblem, jsonRequest } from "../support/http.ts";
import { expectBalance, expectLedgerOk, makeAccount } from "../support/ledger.ts";

const GRANTS_PATH = "/api/admin/accounts/:id/grants";

/** The real app with the admin routes, mounted here until src/app.ts mounts them itself. */
function adminApp() {
  const app = createApp();
  if (!app.routes.some((r) => r.path === GRANTS_PATH)) app.route("/", adminRoutes);
  return app;
}

const app = adminApp();
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

function grant(accountId: string, body: unknown, headers: Record<string, string> = {}) {
  return app.request(`/api/admin/accounts/${accountId}/grants`, jsonRequest("POST", body, headers), env);
}

afterAll(() => expectLedgerOk());

describe("POST /api/admin/accounts/:id/grants", () => {
  it("without a token → 401 problem+json, and nothing is granted", async () => {
    const { accountId } = await makeAccount();
    const response = await grant(accountId, { amount: 5, reason: "r" }, { "idempotency-key": "k1" });
    await expectProblem(response, 401, "unauthorized");
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    await expectBalance(accountId, { balance: 0 });
  });

  it("with a wrong token → 401", async () => {
    const { accountId } = await makeAccount();
    for (const authorization of [
      "Bearer not-the-token",
      `Basic ${btoa("admin:x")}`,
      `Bearer ${env.ADMIN_TOKEN}x`,
    ]) {
      await expectProblem(
        await grant(accountId, { amount: 5, reason: "r" }, { authorization, "idempotency-key": "k1" }),
        401,
        "unauthorized",
      );
    }
    await expectBalance(accountId, { balance: 0 });
  });

  it("grants the credits: 201 with the grant, posted at once", async () => {
    const { accountId } = await makeAccount({ balance: 10 });
    const response = await grant(
      accountId,
      { amount: 250, reason: "Goodwill" },
      { ...ADMIN, "idempotency-key": "g-1" },
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ account_id: accountId, amount: 250, reason: "Goodwill" });
    expect(typeof body.id).toBe("number");
    expect(new Date(String(body.created_at)).toISOString()).toBe(body.created_at);
    await expectBalance(accountId, { balance: 260, available: 260 });
  });

  it("a replay answers the same response with Idempotent-Replayed: true and grants nothing more", async () => {
    const { accountId } = await makeAccount();
    const headers = { ...ADMIN, "idempotency-key": "g-replay" };
    const first = await grant(accountId, { amount: 40, reason: "Promo" }, headers);
    const replay = await grant(accountId, { amount: 40, reason: "Promo" }, headers);
    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.json()).toEqual(await first.json());
    await expectBalance(accountId, { balance: 40 });
  });

  it("the same key with another amount or reason → 422 idempotency_key_reused", async () => {
    const { accountId } = await makeAccount();
    const headers = { ...ADMIN, "idempotency-key": "g-reuse" };
    expect((await grant(accountId, { amount: 40, reason: "Promo" }, headers)).status).toBe(201);
    await expectProblem(
      await grant(accountId, { amount: 41, reason: "Promo" }, headers),
      422,
      "idempotency_key_reused",
    );
    await expectProblem(
      await grant(accountId, { amount: 40, reason: "Other" }, headers),
      422,
      "idempotency_key_reused",
    );
    await expectBalance(accountId, { balance: 40 });
  });

  it("keys are scoped to the account: the same key on another account is another grant", async () => {
    const a = await makeAccount();
    const b = await makeAccount();
    const headers = { ...ADMIN, "idempotency-key": "shared-key" };
    expect((await grant(a.accountId, { amount: 3, reason: "x" }, headers)).status).toBe(201);
    const other = await grant(b.accountId, { amount: 3, reason: "x" }, headers);
    expect(other.status).toBe(201);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    await expectBalance(b.accountId, { balance: 3 });
  });

  it("an unknown account → 404 problem+json", async () => {
    await expectProblem(
      await grant(crypto.randomUUID(), { amount: 5, reason: "r" }, { ...ADMIN, "idempotency-key": "k-404" }),
      404,
      "not_found",
    );
  });

  it("a missing or malformed Idempotency-Key → 400 idempotency_key_invalid", async () => {
    const { accountId } = await makeAccount();
    await expectProblem(
      await grant(accountId, { amount: 5, reason: "r" }, ADMIN),
      400,
      "idempotency_key_invalid",
    );
    await expectProblem(
      await grant(accountId, { amount: 5, reason: "r" }, { ...ADMIN, "idempotency-key": "x".repeat(256) }),
      400,
      "idempotency_key_invalid",
    );
    await expectBalance(accountId, { balance: 0 });
  });

  it("a bad body or account id → 400 validation_failed", async () => {
    const { accountId } = await makeAccount();
    const headers = { ...ADMIN, "idempotency-key": "k-bad" };
    for (const body of [
      { amount: 0, reason: "r" },
      { amount: 1.5, reason: "r" },
      { amount: 5, reason: " " },
      { amount: 5 },
    ]) {
      await expectProblem(await grant(accountId, body, headers), 400, "validation_failed");
    }
    await expectProblem(
      await grant("not-a-uuid", { amount: 5, reason: "r" }, headers),
      400,
      "validation_failed",
    );
    await expectBalance(accountId, { balance: 0 });
  });

  it("is in the OpenAPI document with the admin token scheme and every error it can answer", () => {
    const document = app.getOpenAPI31Document(OPENAPI_INFO);
    const operation = document.paths?.["/api/admin/accounts/{id}/grants"]?.post;
    expect(operation?.security).toEqual([{ adminToken: [] }]);
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual([
      "201",
      "400",
      "401",
      "404",
      "422",
      "500",
    ]);
  });
});
