import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { callWith } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";
import { countStatements } from "../support/statements.ts";

/**
 * The bench's select-1 baseline (bench/run.ts) is part of the public surface only where
 * BENCH_BASELINE_ROUTE=true, and that setting makes a production config invalid.
 */
describe("GET /api/bench/select-1", () => {
  it("does not exist without BENCH_BASELINE_ROUTE: the same 404 as any unknown path", async () => {
    await expectProblem(await call("/api/bench/select-1"), 404, "not_found");
    await expectProblem(
      await callWith({ BENCH_BASELINE_ROUTE: "false" }, "/api/bench/select-1"),
      404,
      "not_found",
    );
  });

  it("with BENCH_BASELINE_ROUTE=true: one statement, through the request path's driver", async () => {
    const { result, statements } = await countStatements(() =>
      callWith({ BENCH_BASELINE_ROUTE: "true" }, "/api/bench/select-1"),
    );
    expect(result.status).toBe(200);
    expect(await result.json()).toEqual({ ok: true });
    expect(statements).toBe(1);
  });

  it("is invalid in production: the config fails, naming the rule", () => {
    const production = {
      ENVIRONMENT: "production",
      DATABASE_URL: "postgres://tollgate@db.example/tollgate",
      ADMIN_TOKEN: "Zq8Vn3Lw0Rt5Yb1Kc6Jd2Hf7Gs4Ma9Pe0Xu3Wi8Oo1A",
      BETTER_AUTH_SECRET: "Jd2Hf7Gs4Ma9Pe0Xu3Wi8Oo1AZq8Vn3Lw0Rt5Yb1Kc6",
      STRIPE_SECRET_KEY: "sk_live_51TollgateExample",
      STRIPE_WEBHOOK_SECRET: "whsec_TollgateProductionExample",
      AUTH_ORIGIN_ALLOWLIST: "https://app.tollgate.example",
      CORS_ALLOW_ORIGINS: "https://app.tollgate.example",
      PUBLIC_ORIGIN_ALLOWLIST: "https://app.tollgate.example",
    };
    expect(loadConfig(production).problems).toEqual([]);
    const result = loadConfig({ ...production, BENCH_BASELINE_ROUTE: "true" });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => `${p.rule}:${p.variable}`)).toEqual([
      "no_bench_route_in_production:BENCH_BASELINE_ROUTE",
    ]);
  });
});
