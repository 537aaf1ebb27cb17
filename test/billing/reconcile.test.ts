import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type ReconcileReport, reconcileCheckouts } from "../../src/billing/reconcile.ts";
import worker from "../../src/index.ts";
import { billingCounters } from "../support/billing-counters.ts";
import { call, expectProblem } from "../support/http.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, rawSql } from "../support/ledger.ts";
import {
  checkout,
  customer,
  deliverOk,
  emulatorUrl,
  eventsFor,
  PRO,
  payOnEmulator,
  reconcileNow,
  STARTER,
  topUpsFor,
} from "./support.ts";

/**
 * Reconciliation repairs what missing webhooks left out. The emulator is shared by every test file, so
 * each test looks at its own sessions in the report rather than at its totals.
 */
afterEach(() => expectLedgerOk());

let buyer: Awaited<ReturnType<typeof customer>>;
beforeAll(async () => {
  buyer = await customer();
});

/** A Checkout Session created through Tollgate (so its metadata is the server's), optionally paid. */
async function boughtSession(packId = "starter", outcome?: "paid" | "async_pending") {
  const response = await checkout(buyer.auth, { pack_id: packId }, crypto.randomUUID());
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  const events = outcome ? await payOnEmulator(id, outcome) : [];
  return { id, events };
}

async function reconcile(body: unknown = {}): Promise<ReconcileReport> {
  const response = await reconcileNow(body);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as ReconcileReport;
}

const repairedIds = (report: ReconcileReport) => report.repaired.map((r) => r.session_id);

const emulatorStripe = () => {
  const url = new URL(emulatorUrl());
  return new Stripe("sk_test_tollgate_local", {
    host: url.hostname,
    port: Number(url.port),
    protocol: "http",
    httpClient: Stripe.createFetchHttpClient(),
  });
};

describe("POST /api/ops/reconcile", () => {
  it("credits a paid session whose webhook never came, once, records and alerts the repair", async () => {
    const before = (await balanceOf(buyer.accountId)).balance;
    const counters = await billingCounters(ledgerDatabase());
    const { id, events } = await boughtSession("pro", "paid");

    const log = vi.spyOn(console, "log");
    let first: ReconcileReport;
    try {
      first = await reconcile();
      const alerts = log.mock.calls
        .flat()
        .map(String)
        .filter((l) => l.includes('"billing.alert"'));
      expect(alerts.some((l) => l.includes("reconcile_repair") && l.includes(id))).toBe(true);
    } finally {
      log.mockRestore();
    }
    expect(first.repaired).toContainEqual(
      expect.objectContaining({
        session_id: id,
        account_id: buyer.accountId,
        pack_id: "pro",
        credits: PRO.credits,
      }),
    );
    expect((await balanceOf(buyer.accountId)).balance).toBe(before + PRO.credits);
    expect(await eventsFor(id)).toMatchObject([{ status: "credited", source: "reconcile" }]);
    const after = await billingCounters(ledgerDatabase());
    expect(after.reconcileRepairs24h).toBe(counters.reconcileRepairs24h + 1);

    // Run again: nothing left to repair. The webhook arriving late finds the credit.
    expect(repairedIds(await reconcile())).not.toContain(id);
    const [completed] = events;
    expect(await deliverOk(JSON.stringify(completed, null, 2))).toMatchObject({ status: "already_credited" });
    expect((await balanceOf(buyer.accountId)).balance).toBe(before + PRO.credits);
    expect(await topUpsFor(id)).toHaveLength(1);
  });

  it("leaves sessions the webhook already credited, and unpaid or open ones, alone", async () => {
    const credited = await boughtSession("starter", "paid");
    await deliverOk(JSON.stringify(credited.events[0], null, 2));
    const pending = await boughtSession("starter", "async_pending");
    const open = await boughtSession("starter");
    const before = (await balanceOf(buyer.accountId)).balance;
    const report = await reconcile();
    for (const { id } of [credited, pending, open]) expect(repairedIds(report)).not.toContain(id);
    expect((await balanceOf(buyer.accountId)).balance).toBe(before);
    expect(await eventsFor(credited.id)).toMatchObject([{ status: "credited", source: "webhook" }]);
  });

  it("refuses a paid session whose metadata does not match the pack table: no credit, an alert", async () => {
    const stripe = emulatorStripe();
    const session = await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [
        {
          quantity: 1,
          price_data: { currency: "usd", unit_amount: STARTER.amount, product_data: { name: "x" } },
        },
      ],
      client_reference_id: buyer.accountId,
      metadata: { account_id: buyer.accountId, pack_id: "starter", credits: "999999" },
    });
    await payOnEmulator(session.id, "paid");
    const before = (await balanceOf(buyer.accountId)).balance;
    const report = await reconcile();
    expect(report.rejected).toContainEqual({ session_id: session.id, reason: "credits_mismatch" });
    expect((await balanceOf(buyer.accountId)).balance).toBe(before);
    // Recorded, so the next run does not alert about it again.
    expect(report.rejected.map((r) => r.session_id)).toContain(session.id);
    expect((await reconcile()).rejected.map((r) => r.session_id)).not.toContain(session.id);
  });

  it("only looks at sessions created since `since`", async () => {
    const { id } = await boughtSession("starter", "paid");
    const future = new Date(Date.now() + 60_000).toISOString();
    const report = await reconcile({ since: future });
    expect(repairedIds(report)).not.toContain(id);
    expect(report.since).toBe(future);
    expect(repairedIds(await reconcile())).toContain(id);
  });

  it("needs no body at all", async () => {
    const response = await call("/api/ops/reconcile", {
      method: "POST",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(response.status, await response.clone().text()).toBe(200);
  });

  it("refuses a `since` older than 30 days", async () => {
    const since = new Date(Date.now() - 31 * 24 * 60 * 60 * 1000).toISOString();
    await expectProblem(await reconcileNow({ since }), 400, "validation_failed");
  });
});

describe("reconcileCheckouts", () => {
  it("follows Stripe's pagination to the end", async () => {
    const sessions = [await boughtSession("starter", "paid"), await boughtSession("starter", "paid")];
    const since = new Date(Date.now() - 60_000);
    const report = await reconcileCheckouts(
      { stripe: emulatorStripe(), database: ledgerDatabase(), packs: [STARTER, PRO] },
      since,
      { pageSize: 1, maxPages: 1000 },
    );
    for (const { id } of sessions) expect(repairedIds(report)).toContain(id);
    expect(report.truncated).toBe(false);
  });

  it("stops after maxPages and says so", async () => {
    await boughtSession("starter", "paid");
    await boughtSession("starter", "paid");
    const report = await reconcileCheckouts(
      { stripe: emulatorStripe(), database: ledgerDatabase(), packs: [STARTER, PRO] },
      new Date(Date.now() - 60_000),
      { pageSize: 1, maxPages: 1 },
    );
    expect(report.checked).toBe(1);
    expect(report.truncated).toBe(true);
    await reconcile(); // leaves nothing unrepaired for the tests after this one
  });
});

describe("the hourly cron", () => {
  it("runs reconciliation (CRON_TASKS.hourly)", async () => {
    const { id } = await boughtSession("starter", "paid");
    const before = (await balanceOf(buyer.accountId)).balance;
    const controller = createScheduledController({ scheduledTime: new Date(), cron: "0 * * * *" });
    await worker.scheduled(controller, env, createExecutionContext());
    expect((await balanceOf(buyer.accountId)).balance).toBe(before + STARTER.credits);
    expect(await eventsFor(id)).toMatchObject([{ status: "credited", source: "reconcile" }]);
    expect(await rawSql("select 1 from stripe_events where event_id = $1", [`reconcile:${id}`])).toHaveLength(
      1,
    );
  });
});
