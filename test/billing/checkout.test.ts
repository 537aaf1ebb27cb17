import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { stripeIdempotencyKey } from "../../src/billing/checkout.ts";
import { callWith } from "../support/auth.ts";
import { expectProblem } from "../support/http.ts";
import { expectLedgerOk, rawSql } from "../support/ledger.ts";
import { countStatements } from "../support/statements.ts";
import { checkout, customer, emulatorRequests, PRO, STARTER } from "./support.ts";

const SESSIONS = { method: "POST", path: "/v1/checkout/sessions" };

let alice: Awaited<ReturnType<typeof customer>>;
let bob: Awaited<ReturnType<typeof customer>>;
/** The return-URL tests run as their own customers: CHECKOUT_RATE_LIMITER allows 30 a minute each. */
let carol: Awaited<ReturnType<typeof customer>>;
let dave: Awaited<ReturnType<typeof customer>>;
beforeAll(async () => {
  [alice, bob, carol, dave] = await Promise.all([customer(), customer(), customer(), customer()]);
});
afterAll(() => expectLedgerOk());

/** The create request Stripe received for this account and client key. */
async function stripeRequest(accountId: string, clientKey: string) {
  const key = await stripeIdempotencyKey(accountId, clientKey);
  const sent = (await emulatorRequests(SESSIONS)).filter((r) => r.idempotency_key === key);
  expect(sent.length).toBeGreaterThan(0);
  return sent[0]?.params as Record<string, unknown>;
}

const recorded = (accountId: string) =>
  rawSql<{ id: string; pack_id: string; credits: string; amount: string; currency: string }>(
    "select id, pack_id, credits, amount, currency from checkout_sessions where account_id = $1 order by created_at",
    [accountId],
  );

describe("POST /api/billing/checkout", () => {
  it("sells the pack at the server's price, with server-side metadata, whatever the body claims", async () => {
    const key = crypto.randomUUID();
    const response = await checkout(
      alice.auth,
      {
        pack_id: "pro",
        account_id: bob.accountId,
        credits: 10 ** 9,
        amount: 1,
        currency: "jpy",
        metadata: { x: 1 },
      },
      key,
    );
    expect(response.status, await response.clone().text()).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ pack_id: "pro", credits: PRO.credits, amount: PRO.amount, currency: "usd" });
    expect(String(body.url)).toContain(`/checkout/${body.id}`);

    const params = await stripeRequest(alice.accountId, key);
    expect(params).toMatchObject({
      mode: "payment",
      client_reference_id: alice.accountId,
      metadata: { account_id: alice.accountId, pack_id: "pro", credits: String(PRO.credits) },
      line_items: [{ quantity: "1", price_data: { currency: "usd", unit_amount: String(PRO.amount) } }],
    });
    expect(await recorded(alice.accountId)).toContainEqual({
      id: body.id,
      pack_id: "pro",
      credits: String(PRO.credits),
      amount: String(PRO.amount),
      currency: "usd",
    });
  });

  it("costs two statements: the caller lookup and the session record", async () => {
    const counted = await countStatements(() =>
      checkout(alice.auth, { pack_id: "starter" }, crypto.randomUUID()),
    );
    expect(counted.result.status).toBe(201);
    expect(counted.statements).toBe(2);
  });

  it.each([
    ["no Idempotency-Key", undefined],
    ["an empty one", ""],
    ["one with a space", "two words"],
    ["one longer than 255 characters", "k".repeat(256)],
  ])("refuses %s before asking Stripe", async (_, key) => {
    const before = (await emulatorRequests(SESSIONS)).length;
    await expectProblem(
      await checkout(alice.auth, { pack_id: "starter" }, key),
      400,
      "idempotency_key_invalid",
    );
    expect((await emulatorRequests(SESSIONS)).length).toBe(before);
  });

  it("refuses an unknown pack", async () => {
    const body = await expectProblem(
      await checkout(alice.auth, { pack_id: "gold" }, "k-gold"),
      400,
      "validation_failed",
    );
    expect(body.errors).toEqual([expect.objectContaining({ path: "pack_id" })]);
  });

  it("the same key with another pack is refused (422), not a second session", async () => {
    const key = crypto.randomUUID();
    expect((await checkout(alice.auth, { pack_id: "starter" }, key)).status).toBe(201);
    await expectProblem(await checkout(alice.auth, { pack_id: "pro" }, key), 422, "idempotency_key_reused");
    expect((await recorded(alice.accountId)).filter((r) => r.pack_id === "pro").length).toBeLessThanOrEqual(
      1,
    );
  });

  it("the same client key from two accounts is two sessions", async () => {
    const key = `shared-${crypto.randomUUID()}`;
    const [a, b] = await Promise.all([
      checkout(alice.auth, { pack_id: "starter" }, key),
      checkout(bob.auth, { pack_id: "starter" }, key),
    ]);
    const [sa, sb] = (await Promise.all([a.json(), b.json()])) as { id: string }[];
    expect(sa?.id).not.toBe(sb?.id);
  });

  it("is rate limited per account: a limited request never reaches Stripe", async () => {
    const before = (await emulatorRequests(SESSIONS)).length;
    const seen: string[] = [];
    const limiter = {
      limit: vi.fn(async ({ key }: { key: string }) => {
        seen.push(key);
        return { success: false };
      }),
    };
    const response = await callWith({ CHECKOUT_RATE_LIMITER: limiter }, "/api/billing/checkout", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "limited", ...alice.auth },
      body: JSON.stringify({ pack_id: "starter" }),
    });
    await expectProblem(response, 429, "rate_limited");
    expect(seen).toEqual([`billing.checkout:${alice.accountId}`]);
    expect((await emulatorRequests(SESSIONS)).length).toBe(before);
  });

  it("Stripe unreachable → 502 upstream_error, nothing recorded", async () => {
    const before = (await recorded(alice.accountId)).length;
    const response = await callWith({ STRIPE_API_BASE: "http://127.0.0.1:1" }, "/api/billing/checkout", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID(), ...alice.auth },
      body: JSON.stringify({ pack_id: "starter" }),
    });
    await expectProblem(response, 502, "upstream_error");
    expect((await recorded(alice.accountId)).length).toBe(before);
  });

  it("the record failing → 503; the retry with the same key records the same session once", async () => {
    const key = crypto.randomUUID();
    await rawSql("alter table checkout_sessions rename to checkout_sessions_offline");
    let failed: Response;
    try {
      failed = await checkout(alice.auth, { pack_id: "starter" }, key);
    } finally {
      await rawSql("alter table checkout_sessions_offline rename to checkout_sessions");
    }
    await expectProblem(failed, 503, "service_unavailable");
    const retried = await checkout(alice.auth, { pack_id: "starter" }, key);
    expect(retried.status).toBe(201);
    const { id } = (await retried.json()) as { id: string };
    expect((await recorded(alice.accountId)).filter((r) => r.id === id)).toHaveLength(1);
  });

  it("a pack with a Stripe price id is sold with that price", async () => {
    const packs = JSON.stringify([{ ...STARTER, stripe_price_id: "price_1TollgateStarter" }]);
    const key = crypto.randomUUID();
    const response = await callWith({ CREDIT_PACKS: packs }, "/api/billing/checkout", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key, ...alice.auth },
      body: JSON.stringify({ pack_id: "starter" }),
    });
    // The emulator has no Prices API, so the price is unknown to it: Stripe's 400 is Tollgate's 502.
    await expectProblem(response, 502, "upstream_error");
    const params = await stripeRequest(alice.accountId, key);
    expect(params.line_items).toEqual([{ price: "price_1TollgateStarter", quantity: "1" }]);
  });
});

describe("return URLs (PUBLIC_ORIGIN_ALLOWLIST)", () => {
  const two = { PUBLIC_ORIGIN_ALLOWLIST: "https://app.tollgate.example, https://shop.tollgate.example" };
  const send = (body: Record<string, unknown>, key = crypto.randomUUID()) =>
    callWith(two, "/api/billing/checkout", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": key, ...carol.auth },
      body: JSON.stringify({ pack_id: "starter", ...body }),
    }).then((response) => ({ response, key }));

  it("default: the first allowed origin, path /", async () => {
    const { response, key } = await send({});
    expect(response.status).toBe(201);
    expect(await stripeRequest(carol.accountId, key)).toMatchObject({
      success_url: "https://app.tollgate.example/?checkout=success&session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "https://app.tollgate.example/?checkout=cancel",
    });
  });

  it("the client may pick another allowed origin and a path", async () => {
    const { response, key } = await send({
      return_origin: "https://SHOP.tollgate.example:443",
      return_path: "/billing?tab=credits",
    });
    expect(response.status).toBe(201);
    expect(await stripeRequest(carol.accountId, key)).toMatchObject({
      success_url:
        "https://shop.tollgate.example/billing?tab=credits&checkout=success&session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "https://shop.tollgate.example/billing?tab=credits&checkout=cancel",
    });
  });

  it.each([
    "https://evil.example",
    "https://app.tollgate.example.evil.com",
    "http://app.tollgate.example",
    "https://app.tollgate.example/login",
    "null",
    "*",
    "javascript:alert(1)",
  ])("refuses return_origin %s", async (origin) => {
    const body = await expectProblem(
      (await send({ return_origin: origin })).response,
      400,
      "validation_failed",
    );
    expect(body.errors).toEqual([expect.objectContaining({ path: "return_origin" })]);
  });

  it.each([
    "//evil.example/x",
    "/\\evil.example",
    "https://evil.example/",
    "billing",
    "/a b",
    "/x#y",
    "/\u00e9",
  ])("refuses return_path %j", async (path) => {
    const body = await expectProblem((await send({ return_path: path })).response, 400, "validation_failed");
    expect(body.errors).toEqual([expect.objectContaining({ path: "return_path" })]);
  });

  it("localhost origins only when ALLOW_LOCALHOST_ORIGINS allows them", async () => {
    const local = { PUBLIC_ORIGIN_ALLOWLIST: "http://localhost:8787", ALLOW_LOCALHOST_ORIGINS: "false" };
    const request = (overrides: Record<string, string>) =>
      callWith({ ...local, ...overrides }, "/api/billing/checkout", {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID(), ...dave.auth },
        body: JSON.stringify({ pack_id: "starter", return_origin: "http://localhost:8787" }),
      });
    await expectProblem(await request({}), 400, "validation_failed");
    expect((await request({ ALLOW_LOCALHOST_ORIGINS: "true" })).status).toBe(201);
  });

  it("answers 503 when no public origin is configured at all", async () => {
    const response = await callWith({ PUBLIC_ORIGIN_ALLOWLIST: "" }, "/api/billing/checkout", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": crypto.randomUUID(), ...dave.auth },
      body: JSON.stringify({ pack_id: "starter" }),
    });
    await expectProblem(response, 503, "service_unavailable");
    expect(env.PUBLIC_ORIGIN_ALLOWLIST).toBeTruthy();
  });
});
