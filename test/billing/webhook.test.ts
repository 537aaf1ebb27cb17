import type Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { callWith } from "../support/auth.ts";
import { billingCounters } from "../support/billing-counters.ts";
import { call, expectProblem } from "../support/http.ts";
import { balanceOf, expectLedgerOk, ledgerDatabase, makeAccount, rawSql } from "../support/ledger.ts";
import {
  deliverOk,
  eventPayload,
  eventsFor,
  newEventId,
  PRO,
  recordSession,
  STARTER,
  sessionFor,
  sign,
  storedEvent,
  WEBHOOK_PATH,
  webhookInit,
} from "./support.ts";

/** Fulfilment decisions one by one: what is credited, what is only recorded, what alerts ops. */
afterEach(() => expectLedgerOk());

const COMPLETED = "checkout.session.completed";

/** Delivers, and returns the receipt plus the billing.alert lines logged meanwhile. */
async function deliverWatchingAlerts(payload: string) {
  const log = vi.spyOn(console, "log");
  try {
    const receipt = await deliverOk(payload);
    const alerts = log.mock.calls
      .flat()
      .map(String)
      .filter((line) => line.includes('"billing.alert"'));
    return { receipt, alerts };
  } finally {
    log.mockRestore();
  }
}

describe("what gets credited", () => {
  it("a paid completed checkout credits the pack's credits, recorded with its transfer", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, { pack: PRO });
    const eventId = newEventId();
    expect(await deliverOk(eventPayload(COMPLETED, session, eventId))).toEqual({
      received: true,
      status: "credited",
      duplicate: false,
    });
    expect(await balanceOf(accountId)).toMatchObject({ balance: PRO.credits, available: PRO.credits });
    const stored = await storedEvent(eventId);
    expect(stored).toMatchObject({ status: "credited", source: "webhook" });
    const [transfer] = await rawSql<{ id: string; amount: string; metadata: Record<string, unknown> }>(
      "select id, amount, metadata from transfers where ref = $1",
      [`checkout:${session.id}`],
    );
    expect(transfer?.id).toBe(stored?.transfer_id);
    expect(transfer?.metadata).toMatchObject({ event_id: eventId, session_id: session.id, pack_id: "pro" });
  });

  it("async_payment_failed records the failure and credits nothing", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, { paymentStatus: "unpaid" });
    const receipt = await deliverOk(eventPayload("checkout.session.async_payment_failed", session));
    expect(receipt.status).toBe("payment_failed");
    expect((await balanceOf(accountId)).balance).toBe(0);
  });

  it("an event type Tollgate does not handle answers 200 and stores nothing", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId);
    const eventId = newEventId();
    expect(await deliverOk(eventPayload("checkout.session.expired", session, eventId))).toMatchObject({
      status: "ignored",
    });
    expect(await storedEvent(eventId)).toBeUndefined();
    expect((await balanceOf(accountId)).balance).toBe(0);
  });

  it("a session of another integration (no Tollgate metadata) is recorded as ignored, without an alert", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, { metadata: { order: "42" } });
    const { receipt, alerts } = await deliverWatchingAlerts(eventPayload(COMPLETED, session));
    expect(receipt.status).toBe("ignored");
    expect(alerts).toEqual([]);
  });
});

describe("what is rejected (no credit, an alert, counted as a webhook failure)", () => {
  const cases: [string, (accountId: string) => Stripe.Checkout.Session | Promise<Stripe.Checkout.Session>][] =
    [
      [
        "unknown_pack",
        (a) => sessionFor(a, { metadata: { account_id: a, pack_id: "gold", credits: "1000" } }),
      ],
      [
        "credits_mismatch",
        (a) => sessionFor(a, { metadata: { account_id: a, pack_id: "starter", credits: "12000" } }),
      ],
      ["amount_mismatch", (a) => sessionFor(a, { amountTotal: 1 })],
      ["amount_mismatch", (a) => ({ ...sessionFor(a), currency: "eur" }) as Stripe.Checkout.Session],
      [
        "account_mismatch",
        (a) => sessionFor(a, { clientReferenceId: "00000000-0000-4000-8000-000000000000" }),
      ],
      [
        "account_mismatch",
        (a) =>
          sessionFor(a, {
            metadata: { account_id: "me", pack_id: "starter", credits: "1000" },
            clientReferenceId: "me",
          }),
      ],
      [
        "account_not_found",
        () => {
          const ghost = crypto.randomUUID();
          return sessionFor(ghost);
        },
      ],
      [
        "session_mismatch",
        async (a) => {
          // Metadata consistent with the pack table, but not with what the server recorded at checkout.
          const session = sessionFor(a, { pack: PRO });
          const other = await makeAccount();
          await recordSession(session, other.accountId, PRO);
          return session;
        },
      ],
    ];

  it.each(cases)("%s", async (reason, build) => {
    const { accountId } = await makeAccount();
    const session = await build(accountId);
    const before = await billingCounters(ledgerDatabase());
    const { receipt, alerts } = await deliverWatchingAlerts(eventPayload(COMPLETED, session));
    expect(receipt).toMatchObject({ status: "rejected", duplicate: false });
    expect(alerts.some((line) => line.includes("checkout_rejected") && line.includes(session.id))).toBe(true);
    expect(await eventsFor(session.id)).toMatchObject([{ status: "rejected", reason }]);
    expect(await rawSql("select 1 from transfers where ref = $1", [`checkout:${session.id}`])).toEqual([]);
    expect((await balanceOf(accountId)).balance).toBe(0);
    const after = await billingCounters(ledgerDatabase());
    expect(after.webhookFailures1h).toBe(before.webhookFailures1h + 1);
  });

  it("a session matching its recorded row is credited (the check above is about the mismatch)", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, { pack: PRO });
    await recordSession(session, accountId, PRO);
    expect((await deliverOk(eventPayload(COMPLETED, session))).status).toBe("credited");
    expect((await balanceOf(accountId)).balance).toBe(PRO.credits);
  });
});

describe("configuration and malformed deliveries", () => {
  it("no STRIPE_WEBHOOK_SECRET: 503 (Stripe retries once it is set), nothing stored", async () => {
    const { accountId } = await makeAccount();
    const eventId = newEventId();
    const payload = eventPayload(COMPLETED, sessionFor(accountId), eventId);
    const response = await callWith(
      { STRIPE_WEBHOOK_SECRET: "" },
      WEBHOOK_PATH,
      webhookInit(payload, await sign(payload)),
    );
    await expectProblem(response, 503, "service_unavailable");
    expect(await storedEvent(eventId)).toBeUndefined();
  });

  it("a correctly signed body that is not JSON: 400 bad_request", async () => {
    const payload = "this is not an event";
    await expectProblem(
      await call(WEBHOOK_PATH, webhookInit(payload, await sign(payload))),
      400,
      "bad_request",
    );
  });

  it("an empty body: 400 invalid_signature", async () => {
    await expectProblem(await call(WEBHOOK_PATH, webhookInit("", await sign(""))), 400, "invalid_signature");
  });
});

describe("billing counters", () => {
  it("webhook_failures_1h counts rejections and failed deliveries of the last hour only", async () => {
    const database = ledgerDatabase();
    const now = await billingCounters(database);
    await rawSql(
      "insert into webhook_failures (reason, created_at) values ('database_error', now() - interval '2 hours')",
    );
    await rawSql("insert into webhook_failures (reason) values ('database_error')");
    expect((await billingCounters(database)).webhookFailures1h).toBe(now.webhookFailures1h + 1);
    const later = new Date(Date.now() + 2 * 60 * 60 * 1000);
    expect((await billingCounters(database, later)).webhookFailures1h).toBe(0);
  });

  it("a starter pack bought twice in two sessions credits twice: sessions are what dedupes, not accounts", async () => {
    const { accountId } = await makeAccount();
    await deliverOk(eventPayload(COMPLETED, sessionFor(accountId)));
    await deliverOk(eventPayload(COMPLETED, sessionFor(accountId)));
    expect((await balanceOf(accountId)).balance).toBe(2 * STARTER.credits);
  });
});
