import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { expect } from "vitest";
import { DEFAULT_CREDIT_PACKS } from "../../src/config/credit-packs.ts";
import { bearer, callWith, createKey, signUp } from "../support/auth.ts";
import { call } from "../support/http.ts";
import { rawSql } from "../support/ledger.ts";

/** The secret the test Worker verifies with (vitest.config.ts bindings). */
export const WEBHOOK_SECRET = env.STRIPE_WEBHOOK_SECRET;
export const WEBHOOK_PATH = "/api/billing/stripe/webhook";
export const STARTER = DEFAULT_CREDIT_PACKS[0] as (typeof DEFAULT_CREDIT_PACKS)[number];
export const PRO = DEFAULT_CREDIT_PACKS[2] as (typeof DEFAULT_CREDIT_PACKS)[number];

const subtle = Stripe.createSubtleCryptoProvider();

/** The emulator every test file shares (test/node/global-setup.ts). */
export const emulatorUrl = () => env.STRIPE_API_BASE as string;

const randomToken = (n: number) => crypto.randomUUID().replaceAll("-", "").slice(0, n);
export const newSessionId = () => `cs_test_a1${randomToken(24)}${randomToken(24)}`;
export const newEventId = () => `evt_${randomToken(24)}`;

/** A Checkout Session as Stripe sends it in events, for `pack` bought by `accountId`. */
export function sessionFor(
  accountId: string,
  options: {
    id?: string;
    pack?: typeof STARTER;
    paymentStatus?: "paid" | "unpaid";
    metadata?: Record<string, string>;
    amountTotal?: number;
    clientReferenceId?: string | null;
  } = {},
): Stripe.Checkout.Session {
  const pack = options.pack ?? STARTER;
  const paid = (options.paymentStatus ?? "paid") === "paid";
  return {
    id: options.id ?? newSessionId(),
    object: "checkout.session",
    amount_subtotal: options.amountTotal ?? pack.amount,
    amount_total: options.amountTotal ?? pack.amount,
    client_reference_id: options.clientReferenceId === undefined ? accountId : options.clientReferenceId,
    created: Math.floor(Date.now() / 1000) - 60,
    currency: pack.currency,
    livemode: false,
    metadata: options.metadata ?? { account_id: accountId, pack_id: pack.id, credits: String(pack.credits) },
    mode: "payment",
    payment_intent: `pi_${randomToken(24)}`,
    payment_status: paid ? "paid" : "unpaid",
    status: "complete",
    url: null,
  } as unknown as Stripe.Checkout.Session;
}

/** An event envelope, serialized the way Stripe sends it (pretty-printed: receivers must keep the bytes). */
export function eventPayload(type: string, session: Stripe.Checkout.Session, id = newEventId()): string {
  const event = {
    id,
    object: "event",
    api_version: "2026-10-28.endive",
    created: Math.floor(Date.now() / 1000),
    data: { object: session },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  return JSON.stringify(event, null, 2);
}

/** `Stripe-Signature` exactly as Stripe computes it: `t=<ts>,v1=<hex HMAC-SHA256("<ts>.<payload>")>`. */
export function sign(
  payload: string,
  options: { secret?: string; timestamp?: number; scheme?: string } = {},
): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: options.secret ?? WEBHOOK_SECRET,
    timestamp: options.timestamp,
    scheme: options.scheme,
    cryptoProvider: subtle,
  });
}

export function webhookInit(payload: string, signature: string | undefined): RequestInit {
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
  };
  if (signature !== undefined) headers["stripe-signature"] = signature;
  return { method: "POST", headers, body: payload };
}

/** Signs and delivers one payload to the Worker, as Stripe would. */
export async function deliver(payload: string, overrides?: Record<string, unknown>): Promise<Response> {
  const init = webhookInit(payload, await sign(payload));
  return overrides ? callWith(overrides, WEBHOOK_PATH, init) : call(WEBHOOK_PATH, init);
}

export async function deliverOk(payload: string) {
  const response = await deliver(payload);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as { received: true; status: string; duplicate: boolean };
}

export type EventRow = {
  event_id: string;
  status: string;
  reason: string | null;
  source: string;
  transfer_id: string | null;
};

export async function eventsFor(sessionId: string): Promise<EventRow[]> {
  return rawSql<EventRow>(
    "select event_id, status, reason, source, transfer_id from stripe_events where session_id = $1 order by received_at, event_id",
    [sessionId],
  );
}

export async function topUpsFor(sessionId: string): Promise<{ id: string; amount: string }[]> {
  return rawSql("select id, amount from transfers where kind = 'top_up' and ref = $1", [
    `checkout:${sessionId}`,
  ]);
}

export async function storedEvent(eventId: string): Promise<EventRow | undefined> {
  return (await rawSql<EventRow>("select * from stripe_events where event_id = $1", [eventId]))[0];
}

export async function webhookFailureCount(): Promise<number> {
  return Number((await rawSql<{ n: string }>("select count(*) as n from webhook_failures"))[0]?.n);
}

/** Records a session as the checkout route does, for tests that build their sessions by hand. */
export async function recordSession(session: Stripe.Checkout.Session, accountId: string, pack = STARTER) {
  await rawSql(
    `insert into checkout_sessions (id, account_id, pack_id, credits, amount, currency, idempotency_key)
     values ($1, $2, $3, $4, $5, $6, 'test')`,
    [session.id, accountId, pack.id, pack.credits, pack.amount, pack.currency],
  );
}

/** A signed-up customer with an API key, for the routes behind `authenticate()`. */
export async function customer() {
  const user = await signUp();
  const key = await createKey(user, "billing tests");
  return { user, accountId: user.accountId, auth: bearer(key.secret) };
}

export function checkout(auth: Record<string, string>, body: unknown, idempotencyKey?: string) {
  const headers: Record<string, string> = { "content-type": "application/json", ...auth };
  if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
  return call("/api/billing/checkout", { method: "POST", headers, body: JSON.stringify(body) });
}

export type EmulatorRequest = {
  method: string;
  path: string;
  idempotency_key: string | null;
  params: Record<string, unknown>;
  replayed: boolean;
  status_code: number | null;
};

/** What the emulator was asked, newest last (it logs every API request, whoever sent it). */
export async function emulatorRequests(
  filter: { method?: string; path?: string } = {},
): Promise<EmulatorRequest[]> {
  const query = new URLSearchParams(filter as Record<string, string>);
  const response = await fetch(`${emulatorUrl()}/_emulator/requests?${query}`);
  return ((await response.json()) as { data: EmulatorRequest[] }).data;
}

/** Pays a session on the emulator as a customer would; returns the events Stripe would deliver. */
export async function payOnEmulator(
  sessionId: string,
  outcome: "paid" | "async" | "async_fail" | "async_pending" = "paid",
): Promise<Stripe.Event[]> {
  const response = await fetch(`${emulatorUrl()}/_emulator/sessions/${sessionId}/pay`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ outcome }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { events: Stripe.Event[] }).events;
}

/** Admin call of the on-demand reconciliation. */
export function reconcileNow(body: unknown = {}) {
  return call("/api/ops/reconcile", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.ADMIN_TOKEN}` },
    body: JSON.stringify(body),
  });
}
