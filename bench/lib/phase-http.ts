// The HTTP phase: wrangler dev as the web role (a queue producer, no consumer, so nothing but the
// requests under test touches the database), every route at each concurrency, the single-request
// statement checks, and the hot-account comparison over HTTP.
import { randomUUID } from "node:crypto";
import { fixed, rotation, run } from "./context.ts";
import {
  type BenchAccount,
  checkoutCompleted,
  grant,
  roundRobinKeys,
  webhookInit,
  webhookRequest,
} from "./fixtures.ts";
import {
  type Counted,
  type LoadResult,
  type Measured,
  measureStatements,
  mergeHalves,
  mergeLoads,
  type RequestSpec,
  runLoad,
} from "./http-load.ts";

export type HttpFixtures = {
  main: BenchAccount;
  mainKey: () => string;
  spread: BenchAccount[];
  spreadKeys: string[][];
};

/** A running stack as the measurements and fixtures see it. */
type Target = Counted & { url: string; adminToken: string; databaseUrl: string };

export async function httpPhase(script: string, f: HttpFixtures) {
  const {
    results,
    log,
    quick,
    seconds,
    only,
    database,
    databaseUrl,
    adminToken: ADMIN_TOKEN,
    webhookSecret: WEBHOOK_SECRET,
    jobBody: JOB_BODY,
    credits: CREDITS,
    concurrencies: CONCURRENCIES,
    hotConnections: HOT_CONNECTIONS,
    addStatements,
  } = run;
  log("starting wrangler dev, web role (no queue consumer), BENCH_BASELINE_ROUTE=true");
  const { stack: wrangler, tally } = await run.startStack({
    script,
    name: "web",
    role: "web",
    vars: { ROLE: "web", MVP_WORKER_ENABLED: "false", BENCH_BASELINE_ROUTE: "true" },
  });
  const stack: Target = {
    neonStats: wrangler.neonStats,
    tally,
    database,
    url: wrangler.url,
    adminToken: ADMIN_TOKEN,
    databaseUrl,
  };
  try {
    const grantedVia = new Set<string>();
    for (const account of [f.main, ...f.spread])
      grantedVia.add(await grant(stack, account.accountId, CREDITS));
    if (grantedVia.has("sql"))
      results.notes.push(
        "The admin grant route was not mounted in this build; accounts were credited with grant_credits().",
      );
    log(`granted ${CREDITS} credits to ${1 + f.spread.length} accounts (${[...grantedVia].join(", ")})`);

    const replayKey = `bench-replay-${randomUUID()}`;
    const first = await fetch(`${wrangler.url}/api/jobs`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${f.mainKey()}`,
        "idempotency-key": replayKey,
        "content-type": "application/json",
      },
      body: JOB_BODY,
    });
    if (first.status !== 201)
      throw new Error(`POST /api/jobs answered ${first.status}: ${await first.text()}`);
    const duplicatePayload = checkoutCompleted(f.spread[0]?.accountId ?? f.main.accountId);
    const firstDelivery = await fetch(
      `${wrangler.url}/api/billing/stripe/webhook`,
      webhookInit(duplicatePayload, WEBHOOK_SECRET),
    );
    if (firstDelivery.status !== 200)
      throw new Error(`webhook answered ${firstDelivery.status}: ${await firstDelivery.text()}`);
    const webhookAccount = rotation(f.spread.map((a) => a.accountId));

    const jobHeaders = (key: string, idempotencyKey: string) => ({
      authorization: `Bearer ${key}`,
      "idempotency-key": idempotencyKey,
      "content-type": "application/json",
    });
    const scenarios: {
      scenario: string;
      label: string;
      route: string;
      statements?: string;
      expect: string;
      request: RequestSpec;
    }[] = [
      {
        scenario: "health",
        label: "GET /api/health",
        route: "GET /api/health",
        expect: "200",
        request: { method: "GET", path: "/api/health" },
      },
      {
        scenario: "select_1",
        label: "GET /api/bench/select-1 (baseline)",
        route: "GET /api/bench/select-1",
        expect: "200",
        request: { method: "GET", path: "/api/bench/select-1" },
      },
      {
        scenario: "jobs_fresh",
        label: "POST /api/jobs (fresh key)",
        route: "POST /api/jobs",
        statements: "POST /api/jobs (fresh key)",
        expect: "201",
        request: {
          method: "POST",
          path: "/api/jobs",
          build: () => ({ headers: jobHeaders(f.mainKey(), randomUUID()), body: JOB_BODY }),
        },
      },
      {
        scenario: "jobs_replay",
        label: "POST /api/jobs (replay)",
        route: "POST /api/jobs",
        statements: "POST /api/jobs (replay)",
        expect: "201",
        request: {
          method: "POST",
          path: "/api/jobs",
          build: () => ({ headers: jobHeaders(f.mainKey(), replayKey), body: JOB_BODY }),
        },
      },
      {
        scenario: "webhook_fresh",
        label: "POST webhook (fresh event)",
        route: "POST /api/billing/stripe/webhook",
        statements: "Stripe webhook (fresh event)",
        expect: "200",
        request: {
          method: "POST",
          path: "/api/billing/stripe/webhook",
          build: () => webhookRequest(checkoutCompleted(webhookAccount()), WEBHOOK_SECRET),
        },
      },
      {
        scenario: "webhook_duplicate",
        label: "POST webhook (duplicate event)",
        route: "POST /api/billing/stripe/webhook",
        statements: "Stripe webhook (duplicate event)",
        expect: "200",
        request: {
          method: "POST",
          path: "/api/billing/stripe/webhook",
          build: () => webhookRequest(duplicatePayload, WEBHOOK_SECRET),
        },
      },
    ];

    if (only.has("http")) {
      log("warming up every route");
      for (const s of scenarios)
        await runLoad({ url: wrangler.url, connections: 4, seconds: quick ? 0.5 : 1, request: s.request });
      // Each row runs in two halves, all routes of one concurrency in turn and the second pass in the
      // reverse order (A B C … C B A): background load that drifts over time hits every route alike,
      // which matters on a shared machine where only ratios within one run mean anything.
      for (const connections of CONCURRENCIES) {
        const halves = new Map<string, Measured<LoadResult>[]>();
        for (const order of [scenarios, [...scenarios].reverse()]) {
          for (const s of order) {
            const measured = await measureStatements(stack, s.route, () =>
              runLoad({ url: wrangler.url, connections, seconds: seconds / 2, request: s.request }),
            );
            halves.set(s.scenario, [...(halves.get(s.scenario) ?? []), measured]);
          }
        }
        for (const s of scenarios) {
          const row = mergeHalves(halves.get(s.scenario) ?? []);
          results.http.push({ scenario: s.scenario, label: s.label, connections, ...row });
          if (s.statements) addStatements(s.statements, row.neonStatements, row.countedRequests);
          const unexpected = Object.keys(row.statuses).filter((status) => status !== s.expect);
          if (unexpected.length > 0)
            results.notes.push(
              `${s.label} at c=${connections} also answered ${unexpected.join(", ")} (expected ${s.expect}).`,
            );
          log(
            `${s.label.padEnd(36)} c=${String(connections).padStart(2)}  ${fixed(row.rps, 0).padStart(5)} req/s  p50 ${fixed(row.p50).padStart(6)} ms  p99 ${fixed(row.p99).padStart(6)} ms  worker p50 ${fixed(row.workerP50 ?? Number.NaN).padStart(5)} ms  ${fixed(row.statementsPerRequest ?? Number.NaN, 2)} statements/req`,
          );
        }
      }
      await singles(stack, f);
    }

    if (only.has("hot-account")) {
      log(
        `hot account: POST /api/jobs at c=${HOT_CONNECTIONS}, one account against ${f.spread.length} accounts`,
      );
      // Consecutive requests go to different accounts; the rounds alternate so that background load
      // on a shared machine hits both sides alike.
      const spreadOrder = rotation(roundRobinKeys(f.spreadKeys));
      const hotRuns = [];
      const spreadRuns = [];
      for (let round = 0; round < 2; round += 1) {
        hotRuns.push(
          await runLoad({
            url: wrangler.url,
            connections: HOT_CONNECTIONS,
            seconds,
            request: {
              method: "POST",
              path: "/api/jobs",
              build: () => ({ headers: jobHeaders(f.mainKey(), randomUUID()), body: JOB_BODY }),
            },
          }),
        );
        spreadRuns.push(
          await runLoad({
            url: wrangler.url,
            connections: HOT_CONNECTIONS,
            seconds,
            request: {
              method: "POST",
              path: "/api/jobs",
              build: () => ({ headers: jobHeaders(spreadOrder(), randomUUID()), body: JOB_BODY }),
            },
          }),
        );
      }
      results.hotAccountHttp = {
        connections: HOT_CONNECTIONS,
        accounts: f.spread.length,
        hot: mergeLoads(hotRuns),
        spread: mergeLoads(spreadRuns),
      };
      const h = results.hotAccountHttp;
      log(
        `  one account ${fixed(h.hot.rps, 0)} req/s p50 ${fixed(h.hot.p50)} ms; ${h.accounts} accounts ${fixed(h.spread.rps, 0)} req/s p50 ${fixed(h.spread.p50)} ms`,
      );
    }
  } finally {
    await wrangler.close();
  }
}

/** Routes whose cost is a property, not a rate: a few sequential requests each, counted the same way. */
async function singles(stack: Target, f: { mainKey: () => string }) {
  const { adminToken: ADMIN_TOKEN, jobBody: JOB_BODY, addStatements } = run;
  const n = 5;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const metrics = await measureStatements(stack, "GET /api/ops/metrics", async () => {
    for (let i = 0; i < n; i += 1)
      await expectStatus(fetch(`${stack.url}/api/ops/metrics`, { headers: admin }), 200);
  });
  recordSingle("GET /api/ops/metrics", metrics, "ops_metrics(): every figure in one statement");

  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const response = await fetch(`${stack.url}/api/jobs`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${f.mainKey()}`,
        "idempotency-key": randomUUID(),
        "content-type": "application/json",
      },
      body: JOB_BODY,
    });
    if (response.status !== 201) throw new Error(`POST /api/jobs answered ${response.status}`);
    ids.push(((await response.json()) as { id: string }).id);
  }
  const cancels = await measureStatements(stack, "POST /api/jobs/:id/cancel", async () => {
    for (const id of ids)
      await expectStatus(
        fetch(`${stack.url}/api/jobs/${id}/cancel`, {
          method: "POST",
          headers: { authorization: `Bearer ${f.mainKey()}` },
        }),
        200,
      );
  });
  recordSingle(
    "POST /api/jobs/:id/cancel (release)",
    cancels,
    "the caller lookup, then cancel_job() (release_hold inside)",
  );
  addStatements("release (POST /api/jobs/:id/cancel)", cancels.neonStatements, cancels.requests, {
    note: "authenticate() looks the caller up in a statement of its own before cancel_job()",
  });
  addStatements("GET /api/ops/metrics", metrics.neonStatements, metrics.requests);

  const reads = await measureStatements(stack, "GET /api/jobs/:id", async () => {
    for (const id of ids)
      await expectStatus(
        fetch(`${stack.url}/api/jobs/${id}`, { headers: { authorization: `Bearer ${f.mainKey()}` } }),
        200,
      );
  });
  recordSingle("GET /api/jobs/:id", reads, "informative");
}

async function expectStatus(pending: Promise<Response>, status: number) {
  const response = await pending;
  const text = await response.text();
  if (response.status !== status)
    throw new Error(`${response.url} answered ${response.status}: ${text.slice(0, 300)}`);
}

function recordSingle(label: string, measured: Measured<unknown>, note: string) {
  const { results, log } = run;
  results.singles.push({ label, requests: measured.requests, perRequest: measured.perRequest, note });
  log(
    `${label.padEnd(36)} ${fixed(measured.perRequest ?? Number.NaN, 2)} statements/req (${measured.requests} requests)`,
  );
}
