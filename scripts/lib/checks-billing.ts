// go-live's Stripe lines against a running deployment (local and staging only: they buy credits):
// the checkout's Idempotency-Key, and a signed webhook event delivered twice crediting once.
import { randomBytes, randomUUID } from "node:crypto";
import Stripe from "stripe";
import { bearer, describeAnswer, request } from "./http.ts";

export type CheckoutSession = {
  id: string;
  accountId: string;
  packId: string;
  credits: number;
  amount: number;
  currency: string;
};

/**
 * POST /api/billing/checkout twice with one Idempotency-Key: the same Checkout Session both times and
 * `Idempotent-Replayed: true` on the second. Tollgate sets that header only when Stripe itself answered
 * the session creation as a replay, so this proves the request to Stripe carried an Idempotency-Key.
 */
export async function checkCheckoutIdempotency({
  base,
  apiKey,
}: {
  base: string;
  apiKey: string;
}): Promise<CheckoutSession> {
  const me = await request(`${base}/api/me`, { headers: bearer(apiKey) });
  if (me.status !== 200) throw new Error(`GET /api/me: ${describeAnswer(me)}`);
  const packs = await request(`${base}/api/billing/packs`);
  const pack = packs.body?.packs?.[0];
  if (packs.status !== 200 || !pack) throw new Error(`GET /api/billing/packs: ${describeAnswer(packs)}`);
  const key = `go-live-checkout-${randomUUID()}`;
  const post = () =>
    request(`${base}/api/billing/checkout`, {
      headers: { ...bearer(apiKey), "idempotency-key": key },
      json: { pack_id: pack.id },
      timeoutMs: 20_000,
    });
  const first = await post();
  if (first.status !== 201) throw new Error(`first POST /api/billing/checkout: ${describeAnswer(first)}`);
  if (first.headers.get("idempotent-replayed")) throw new Error("a fresh key was answered as a replay");
  const second = await post();
  if (second.status !== 201) throw new Error(`second POST /api/billing/checkout: ${describeAnswer(second)}`);
  if (second.body?.id !== first.body?.id)
    throw new Error(`the same key gave two sessions: ${first.body?.id}, ${second.body?.id}`);
  if (second.headers.get("idempotent-replayed") !== "true")
    throw new Error(
      "no Idempotent-Replayed: true on the replay: the Stripe request carried no Idempotency-Key",
    );
  return {
    id: first.body.id,
    accountId: me.body.account_id,
    packId: first.body.pack_id ?? pack.id,
    credits: first.body.credits ?? pack.credits,
    amount: first.body.amount ?? pack.amount,
    currency: first.body.currency ?? pack.currency,
  };
}

/** `Stripe-Signature` as Stripe computes it, by the Stripe library itself. */
export function stripeSignature(payload: string, secret: string, timestamp = Math.floor(Date.now() / 1000)) {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp });
}

/** A `checkout.session.completed` event for a session, paid, as Stripe would send it. */
export function completedEvent(
  session: CheckoutSession,
  eventId = `evt_golive${randomBytes(12).toString("hex")}`,
) {
  return {
    id: eventId,
    object: "event",
    api_version: "2026-10-28.endive",
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: "checkout.session.completed",
    data: {
      object: {
        id: session.id,
        object: "checkout.session",
        mode: "payment",
        status: "complete",
        payment_status: "paid",
        amount_total: session.amount,
        currency: session.currency,
        client_reference_id: session.accountId,
        metadata: {
          account_id: session.accountId,
          pack_id: session.packId,
          credits: String(session.credits),
        },
      },
    },
  };
}

/**
 * The replay test of the checklist: one signed event delivered twice, then another event for the same
 * session; the account is credited exactly once (the pack's credits), whatever the deliveries.
 */
export async function checkWebhookReplay({
  base,
  apiKey,
  webhookSecret,
  session,
}: {
  base: string;
  apiKey: string;
  webhookSecret: string;
  session: CheckoutSession;
}): Promise<string> {
  const balance = async () => {
    const me = await request(`${base}/api/me`, { headers: bearer(apiKey) });
    if (me.status !== 200) throw new Error(`GET /api/me: ${describeAnswer(me)}`);
    return me.body.balance as number;
  };
  const deliver = async (event: object) => {
    const payload = JSON.stringify(event);
    const answer = await request(`${base}/api/billing/stripe/webhook`, {
      headers: {
        "content-type": "application/json",
        "stripe-signature": stripeSignature(payload, webhookSecret),
      },
      body: payload,
    });
    if (answer.status !== 200) throw new Error(`webhook: ${describeAnswer(answer)}`);
    return answer.body as { status: string; duplicate: boolean };
  };
  const before = await balance();
  const event = completedEvent(session);
  const first = await deliver(event);
  if (first.status !== "credited" || first.duplicate)
    throw new Error(`first delivery: ${JSON.stringify(first)}`);
  const again = await deliver(event);
  if (!again.duplicate) throw new Error(`the same event again was not a duplicate: ${JSON.stringify(again)}`);
  const other = await deliver(completedEvent(session));
  if (other.status !== "already_credited")
    throw new Error(`another event for the same session: ${JSON.stringify(other)}`);
  const after = await balance();
  if (after - before !== session.credits)
    throw new Error(`balance ${before} → ${after}: expected exactly +${session.credits}`);
  return `3 deliveries (event twice + a second event), balance +${session.credits} once`;
}
