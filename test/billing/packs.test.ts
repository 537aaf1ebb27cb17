import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DEFAULT_EMULATOR_URL, EMULATOR_SECRET_KEY, stripeTarget } from "../../src/billing/stripe.ts";
import { DEFAULT_CREDIT_PACKS } from "../../src/config/credit-packs.ts";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { callWith } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";

const packsWith = (CREDIT_PACKS: string) => callWith({ CREDIT_PACKS }, "/api/billing/packs");

describe("GET /api/billing/packs", () => {
  it("lists the built-in packs without authentication", async () => {
    const response = await call("/api/billing/packs");
    expect(response.status).toBe(200);
    const { packs } = (await response.json()) as { packs: Record<string, unknown>[] };
    expect(packs.map((p) => p.id)).toEqual(DEFAULT_CREDIT_PACKS.map((p) => p.id));
    expect(packs[0]).toEqual({
      id: "starter",
      name: "Starter",
      credits: 1000,
      amount: 1000,
      currency: "usd",
    });
  });

  it("lists CREDIT_PACKS when set, currency lowercased, without Stripe price ids", async () => {
    const response = await packsWith(
      JSON.stringify([
        { id: "mini", credits: 50, amount: 99, currency: "EUR", stripe_price_id: "price_123abc" },
      ]),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      packs: [{ id: "mini", name: "mini", credits: 50, amount: 99, currency: "eur" }],
    });
  });

  it.each([
    ["not JSON", "starter=1000"],
    ["not an array", JSON.stringify({ id: "a", credits: 1, amount: 100, currency: "usd" })],
    ["an empty list", "[]"],
    [
      "duplicate ids",
      JSON.stringify([1, 2].map(() => ({ id: "a", credits: 1, amount: 100, currency: "usd" }))),
    ],
    ["fractional credits", JSON.stringify([{ id: "a", credits: 1.5, amount: 100, currency: "usd" }])],
    ["a zero amount", JSON.stringify([{ id: "a", credits: 1, amount: 0, currency: "usd" }])],
    ["a bad currency", JSON.stringify([{ id: "a", credits: 1, amount: 100, currency: "dollars" }])],
    ["an unknown field", JSON.stringify([{ id: "a", credits: 1, amount: 100, currency: "usd", bonus: 5 }])],
    ["an id with spaces", JSON.stringify([{ id: "big pack", credits: 1, amount: 100, currency: "usd" }])],
  ])("refuses %s: the config is invalid, so nothing is sold", async (_, value) => {
    await expectProblem(await packsWith(value), 503, "service_unavailable");
    const ready = await callWith({ CREDIT_PACKS: value }, "/api/ready");
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain("CREDIT_PACKS");
  });
});

describe("which Stripe", () => {
  const config = (overrides: Record<string, string>) => {
    const result = loadConfig({ ...env, STRIPE_API_BASE: "", STRIPE_SECRET_KEY: "", ...overrides });
    if (!result.config) throw new Error("config did not parse");
    return result.config as Config;
  };

  it("STRIPE_API_BASE set: the emulator there", () => {
    expect(stripeTarget(config({ STRIPE_API_BASE: "http://127.0.0.1:9999" }))).toEqual({
      secretKey: EMULATOR_SECRET_KEY,
      apiBase: "http://127.0.0.1:9999",
    });
  });

  it("a secret key and no API base: Stripe itself", () => {
    expect(stripeTarget(config({ STRIPE_SECRET_KEY: "sk_test_abcdefghijklmnop" }))).toEqual({
      secretKey: "sk_test_abcdefghijklmnop",
    });
  });

  it("no key outside production: the local emulator with its test key", () => {
    expect(stripeTarget(config({}))).toEqual({
      secretKey: EMULATOR_SECRET_KEY,
      apiBase: DEFAULT_EMULATOR_URL,
    });
  });

  it("no key in production: nothing (never the emulator)", () => {
    expect(stripeTarget(config({ ENVIRONMENT: "production" }))).toBeUndefined();
  });
});
