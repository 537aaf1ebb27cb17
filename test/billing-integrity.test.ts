import { env } from "cloudflare:workers";
import type Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stripeIdempotencyKey } from "../src/billing/checkout.ts";
import {
  checkout,
  customer,
  deliver,
  deliverOk,
  emulatorRequests,
  eventPayload,
  eventsFor,
  newEventId,
  payOnEmulator,
  reconcileNow,
  STARTER,
  sessionFor,
  sign,
  storedEvent,
  topUpsFor,
  WEBHOOK_PATH,
  webhookFailureCount,
  webhookInit,
} from "./billing/support.ts";
import { callWith } from "./support/auth.ts";
import { call, expectProblem } from "./support/http.ts";
import { balanceOf, expectLedgerOk, makeAccount, rawSql } from "./support/ledger.ts";
import { countStatements } from "./support/statements.ts";

/**
 * The billing checklist (docs/GO_LIVE_CHECKLIST.md, "Stripe"): a paid Checkout Session credits its account
 * exactly once, whatever Stripe, the network, the database or an attacker do. The ledger invariants
 * (I1–I6, I4 included) hold after every test.
 */
afterEach(() => expectLedgerOk());

const COMPLETED = "checkout.session.completed";
const SUCCEEDED = "checkout.session.async_payment_succeeded";

async function paidSessionOfNewAccount() {
  const { accountId } = await makeAccount();
  return { accountId, session: sessionFor(accountId) };
}

describe("the same event delivered again", () => {
  it("10× in sequence → one credit; every delivery answers 200", async () => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const payload = eventPayload(COMPLETED, session);
    const receipts = [];
    for (let i = 0; i < 10; i++) receipts.push(await deliverOk(payload));
    expect(receipts[0]).toMatchObject({ status: "credited", duplicate: false });
    expect(receipts.slice(1).every((r) => r.duplicate && r.status === "credited")).toBe(true);
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    expect(await topUpsFor(session.id)).toHaveLength(1);
  });

  it("10× concurrently → one credit", async () => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const payload = eventPayload(COMPLETED, session);
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver(payload)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const receipts = (await Promise.all(responses.map((r) => r.json()))) as { duplicate: boolean }[];
    expect(receipts.filter((r) => !r.duplicate)).toHaveLength(1);
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    expect(await topUpsFor(session.id)).toHaveLength(1);
  });
});

describe("two different events for the same session", () => {
  it.each([
    ["completed, then async_payment_succeeded", [COMPLETED, SUCCEEDED]],
    ["async_payment_succeeded, then completed", [SUCCEEDED, COMPLETED]],
  ])("%s → one credit", async (_, order) => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const [first, second] = order as [string, string];
    expect(await deliverOk(eventPayload(first, session))).toMatchObject({ status: "credited" });
    expect(await deliverOk(eventPayload(second, session))).toMatchObject({ status: "already_credited" });
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    expect((await eventsFor(session.id)).map((e) => e.status)).toEqual(["credited", "already_credited"]);
  });

  it("both at once → one credit", async () => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const responses = await Promise.all(
      [COMPLETED, SUCCEEDED, COMPLETED, SUCCEEDED].map((t) => deliver(eventPayload(t, session))),
    );
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    expect((await eventsFor(session.id)).filter((e) => e.status === "credited")).toHaveLength(1);
  });
});

describe("delayed payment methods", () => {
  it("completed while unpaid credits nothing; async_payment_succeeded then credits once", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, { paymentStatus: "unpaid" });
    expect(await deliverOk(eventPayload(COMPLETED, session))).toMatchObject({ status: "awaiting_payment" });
    expect((await balanceOf(accountId)).balance).toBe(0);
    const paid = { ...session, payment_status: "paid" } as Stripe.Checkout.Session;
    expect(await deliverOk(eventPayload(SUCCEEDED, paid))).toMatchObject({ status: "credited" });
    await deliverOk(eventPayload(SUCCEEDED, paid));
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
  });
});

describe("webhook and reconciliation racing", () => {
  it("a paid session delivered by webhook while reconciliation runs → one credit", async () => {
    const { accountId, auth } = await customer();
    const created = await checkout(auth, { pack_id: "starter" }, crypto.randomUUID());
    const { id } = (await created.json()) as { id: string };
    const [completed] = await payOnEmulator(id, "paid");
    const payload = JSON.stringify(completed, null, 2);
    const [webhook, reconcile] = await Promise.all([deliver(payload), reconcileNow()]);
    expect(webhook.status).toBe(200);
    expect(reconcile.status).toBe(200);
    // Whichever came second found the first one's credit.
    await reconcileNow();
    await deliver(payload);
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    expect(await topUpsFor(id)).toHaveLength(1);
    expect((await eventsFor(id)).filter((e) => e.status === "credited")).toHaveLength(1);
  });
});

describe("signatures", () => {
  async function expectRefusedAndNothingStored(
    payload: string,
    signature: string | undefined,
    eventId: string,
  ) {
    const failures = await webhookFailureCount();
    const response = await call(WEBHOOK_PATH, webhookInit(payload, signature));
    await expectProblem(response, 400, "invalid_signature");
    expect(await storedEvent(eventId)).toBeUndefined();
    expect(await webhookFailureCount()).toBe(failures);
  }

  it.each([
    [
      "older than 300 s",
      async (p: string) => [p, await sign(p, { timestamp: Math.floor(Date.now() / 1000) - 301 })],
    ],
    [
      "body changed by one byte",
      async (p: string) => [p.replace('"livemode": false', '"livemode": falsf'), await sign(p)],
    ],
    ["body re-serialized", async (p: string) => [JSON.stringify(JSON.parse(p)), await sign(p)]],
    ["missing header", async (p: string) => [p, undefined]],
    ["only a v0 signature", async (p: string) => [p, await sign(p, { scheme: "v0" })]],
    ["another secret", async (p: string) => [p, await sign(p, { secret: "whsec_somebody_else" })]],
  ] as const)("%s → 400 invalid_signature, nothing stored, no credit", async (_, tamper) => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const eventId = newEventId();
    const [payload, signature] = await tamper(eventPayload(COMPLETED, session, eventId));
    await expectRefusedAndNothingStored(payload ?? "", signature, eventId);
    expect((await balanceOf(accountId)).balance).toBe(0);
  });

  it("a signature within the tolerance passes (the 300 s rule is what refused the stale one)", async () => {
    const { session } = await paidSessionOfNewAccount();
    const payload = eventPayload(COMPLETED, session);
    const signature = await sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 290 });
    expect((await call(WEBHOOK_PATH, webhookInit(payload, signature))).status).toBe(200);
  });

  it("rotation: with two secrets configured, events signed with either are accepted", async () => {
    const rotating = { STRIPE_WEBHOOK_SECRET: `whsec_next_secret_0001, ${env.STRIPE_WEBHOOK_SECRET}` };
    for (const secret of ["whsec_next_secret_0001", env.STRIPE_WEBHOOK_SECRET]) {
      const { accountId, session } = await paidSessionOfNewAccount();
      const payload = eventPayload(COMPLETED, session);
      const response = await callWith(
        rotating,
        WEBHOOK_PATH,
        webhookInit(payload, await sign(payload, { secret })),
      );
      expect(response.status).toBe(200);
      expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
    }
    // Without the rotation the new secret is refused: the list is what let it in.
    const { session } = await paidSessionOfNewAccount();
    const payload = eventPayload(COMPLETED, session);
    const signature = await sign(payload, { secret: "whsec_next_secret_0001" });
    await expectProblem(await call(WEBHOOK_PATH, webhookInit(payload, signature)), 400, "invalid_signature");
  });
});

describe("amounts come from the server", () => {
  it("tampered credits in the metadata → no credit, the event recorded as rejected, an alert for ops", async () => {
    const { accountId } = await makeAccount();
    const session = sessionFor(accountId, {
      metadata: { account_id: accountId, pack_id: STARTER.id, credits: "1000000" },
    });
    const log = vi.spyOn(console, "log");
    try {
      const receipt = await deliverOk(eventPayload(COMPLETED, session));
      expect(receipt).toMatchObject({ status: "rejected", duplicate: false });
      const alerts = log.mock.calls
        .flat()
        .map(String)
        .filter((line) => line.includes('"billing.alert"'));
      expect(alerts.some((line) => line.includes("checkout_rejected") && line.includes(session.id))).toBe(
        true,
      );
    } finally {
      log.mockRestore();
    }
    expect((await balanceOf(accountId)).balance).toBe(0);
    expect(await eventsFor(session.id)).toMatchObject([{ status: "rejected", reason: "credits_mismatch" }]);
  });
});

describe("the database failing mid-request", () => {
  it("unreachable database → 5xx, nothing stored; Stripe's retry then credits once", async () => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const eventId = newEventId();
    const payload = eventPayload(COMPLETED, session, eventId);
    const down = await deliver(payload, { LOCAL_NEON_URL: "http://127.0.0.1:1" });
    expect(down.status).toBeGreaterThanOrEqual(500);
    await expectProblem(down, 503, "service_unavailable");
    expect(await storedEvent(eventId)).toBeUndefined();
    expect((await balanceOf(accountId)).balance).toBe(0);

    expect(await deliverOk(payload)).toMatchObject({ status: "credited", duplicate: false });
    expect(await deliverOk(payload)).toMatchObject({ duplicate: true });
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
  });

  it("the fulfilment statement failing → 503, the failure counted in its own statement, the retry credits once", async () => {
    const { accountId, session } = await paidSessionOfNewAccount();
    const eventId = newEventId();
    const payload = eventPayload(COMPLETED, session, eventId);
    const failures = await webhookFailureCount();
    const signature = "text, text, text, text, text, text, text, text, bigint, bigint, text";
    await rawSql(`alter function fulfil_checkout(${signature}) rename to fulfil_checkout_offline`);
    try {
      await expectProblem(await deliver(payload), 503, "service_unavailable");
    } finally {
      await rawSql(`alter function fulfil_checkout_offline(${signature}) rename to fulfil_checkout`);
    }
    expect(await webhookFailureCount()).toBe(failures + 1);
    const [failure] = await rawSql<{ event_id: string; reason: string; detail: string }>(
      "select event_id, reason, detail from webhook_failures order by id desc limit 1",
    );
    expect(failure).toEqual({ event_id: eventId, reason: "database_error", detail: "42883" });
    expect(await storedEvent(eventId)).toBeUndefined();
    expect(await deliverOk(payload)).toMatchObject({ status: "credited" });
    expect((await balanceOf(accountId)).balance).toBe(STARTER.credits);
  });
});

describe("checkout", () => {
  it("a replay with the same Idempotency-Key → one Stripe session, and Stripe got Tollgate's key", async () => {
    const { accountId, auth } = await customer();
    const clientKey = crypto.randomUUID();
    const first = await checkout(auth, { pack_id: "starter" }, clientKey);
    const second = await checkout(auth, { pack_id: "starter" }, clientKey);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    const [a, b] = (await Promise.all([first.json(), second.json()])) as { id: string; url: string }[];
    expect(b).toEqual(a);
    expect(second.headers.get("idempotent-replayed")).toBe("true");

    const expectedKey = await stripeIdempotencyKey(accountId, clientKey);
    const sent = (await emulatorRequests({ method: "POST", path: "/v1/checkout/sessions" })).filter(
      (r) => r.idempotency_key === expectedKey,
    );
    expect(sent).toHaveLength(2);
    expect(sent.map((r) => r.replayed)).toEqual([false, true]);
    const rows = await rawSql("select id from checkout_sessions where account_id = $1", [accountId]);
    expect(rows).toEqual([{ id: a?.id }]);
  });

  it("a foreign return origin → 400, and Stripe is never asked", async () => {
    const { accountId, auth } = await customer();
    const before = (await emulatorRequests({ method: "POST", path: "/v1/checkout/sessions" })).length;
    const response = await checkout(
      auth,
      { pack_id: "starter", return_origin: "https://evil.example" },
      "k1",
    );
    await expectProblem(response, 400, "validation_failed");
    expect((await emulatorRequests({ method: "POST", path: "/v1/checkout/sessions" })).length).toBe(before);
    expect(await rawSql("select id from checkout_sessions where account_id = $1", [accountId])).toEqual([]);
  });
});

describe("round trips", () => {
  it("a webhook costs exactly one statement: credit, dedupes and record together", async () => {
    const { session } = await paidSessionOfNewAccount();
    const payload = eventPayload(COMPLETED, session);
    const credited = await countStatements(() => deliver(payload));
    expect(credited.result.status).toBe(200);
    expect(credited.statements).toBe(1);
    const replayed = await countStatements(() => deliver(payload));
    expect(replayed.statements).toBe(1);
    const unknown = await countStatements(() => deliver(eventPayload("customer.created", session)));
    expect(unknown.result.status).toBe(200);
    expect(unknown.statements).toBe(0);
  });
});
