import { existsSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StripeEmulator, startStripeEmulator } from "../../scripts/stripe-emulator/server.ts";

const WEBHOOK_SECRET = "whsec_stripe_emulator_test";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  event: Stripe.Event;
}

/** Stands in for Tollgate: receives webhooks and serves the success page the browser lands on. */
async function startSink() {
  const received: Received[] = [];
  const flakyFailures = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://sink.invalid").pathname;
      if (req.method === "GET" && path === "/success") {
        res.writeHead(200, { "Content-Type": "text/html" }).end("<h1>Payment received</h1>");
        return;
      }
      if (req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      const event = JSON.parse(body) as Stripe.Event;
      received.push({ path, headers: req.headers, body, event });
      // The first delivery of each event to /flaky fails, so the emulator has to retry it.
      if (path === "/flaky" && !flakyFailures.has(event.id)) {
        flakyFailures.add(event.id);
        res.writeHead(500).end("try again");
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" }).end('{"received":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

let emulator: StripeEmulator;
let sink: Awaited<ReturnType<typeof startSink>>;
let stripe: Stripe;

const packParams = (overrides: Partial<Stripe.Checkout.SessionCreateParams> = {}) =>
  ({
    mode: "payment",
    line_items: [
      {
        quantity: 2,
        price_data: {
          currency: "usd",
          unit_amount: 500,
          product_data: { name: "Starter pack (1,000 credits)" },
        },
      },
    ],
    client_reference_id: "user_123",
    metadata: { pack: "starter", user_id: "user_123" },
    success_url: `${sink.url}/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${sink.url}/cancel`,
    ...overrides,
  }) satisfies Stripe.Checkout.SessionCreateParams;

/** The single element of `items`; fails the test when there is not exactly one. */
function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

const forwardedFor = (sessionId: string) =>
  sink.received.filter(
    (r) => r.path === "/webhook" && (r.event.data.object as Stripe.Checkout.Session).id === sessionId,
  );

beforeAll(async () => {
  sink = await startSink();
  emulator = await startStripeEmulator({
    forwardTo: `${sink.url}/webhook`,
    webhookSecret: WEBHOOK_SECRET,
    retryBaseDelayMs: 10,
  });
  stripe = new Stripe("sk_test_tollgate_local", {
    host: "127.0.0.1",
    port: emulator.port,
    protocol: "http",
    httpClient: Stripe.createFetchHttpClient(),
  });
});

afterAll(async () => {
  await emulator?.close();
  await sink?.close();
});

describe("checkout sessions", () => {
  it("replays a create that reuses its Idempotency-Key instead of creating a second session", async () => {
    const key = `checkout-${crypto.randomUUID()}`;
    const first = await stripe.checkout.sessions.create(packParams(), { idempotencyKey: key });
    const second = await stripe.checkout.sessions.create(packParams(), { idempotencyKey: key });

    expect(second.id).toBe(first.id);
    expect(first).toMatchObject({
      object: "checkout.session",
      status: "open",
      payment_status: "unpaid",
      amount_total: 1000,
      currency: "usd",
      mode: "payment",
      client_reference_id: "user_123",
      metadata: { pack: "starter", user_id: "user_123" },
      url: `${emulator.url}/checkout/${first.id}`,
    });
    expect(first.id).toMatch(/^cs_test_/);
    expect(first.expires_at).toBeGreaterThan(first.created);

    const creations = emulator.requests.filter(
      (r) => r.path === "/v1/checkout/sessions" && r.idempotency_key === key,
    );
    expect(creations.map((r) => r.replayed)).toEqual([false, true]);
    const matching = await stripe.checkout.sessions.list({ created: { gte: first.created }, limit: 100 });
    expect(matching.data.filter((s) => s.id === first.id)).toHaveLength(1);
  });

  it("marks replays with Idempotent-Replayed like Stripe", async () => {
    const post = () =>
      fetch(`${emulator.url}/v1/checkout/sessions`, {
        method: "POST",
        headers: {
          Authorization: "Bearer sk_test_tollgate_local",
          "Content-Type": "application/x-www-form-urlencoded",
          "Idempotency-Key": "raw-replay-key",
        },
        body:
          "mode=payment&line_items[0][quantity]=1&line_items[0][price_data][currency]=eur" +
          "&line_items[0][price_data][unit_amount]=900&line_items[0][price_data][product_data][name]=Pack" +
          "&metadata[user_id]=u_9&expand[]=line_items",
      });
    const first = await post();
    const second = await post();
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    const [a, b] = await Promise.all([first.json(), second.json()]);
    expect(b).toEqual(a);
    expect(a.amount_total).toBe(900);
    expect(a.line_items.data[0]).toMatchObject({
      object: "item",
      quantity: 1,
      amount_total: 900,
      currency: "eur",
    });
  });

  it("rejects a reused Idempotency-Key with different params", async () => {
    const key = `checkout-${crypto.randomUUID()}`;
    await stripe.checkout.sessions.create(packParams(), { idempotencyKey: key });
    const reuse = stripe.checkout.sessions.create(packParams({ client_reference_id: "someone_else" }), {
      idempotencyKey: key,
    });
    await expect(reuse).rejects.toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    await expect(reuse).rejects.toMatchObject({ statusCode: 400, rawType: "idempotency_error" });
  });

  it("validates params the way Stripe does", async () => {
    const noQuantity = packParams({
      line_items: [{ price_data: { currency: "usd", unit_amount: 500, product_data: { name: "Pack" } } }],
    });
    await expect(stripe.checkout.sessions.create(noQuantity)).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 400,
      param: "line_items[0][quantity]",
    });
    const unknown = { ...packParams(), colour: "blue" } as Stripe.Checkout.SessionCreateParams;
    await expect(stripe.checkout.sessions.create(unknown)).rejects.toMatchObject({
      message: "Received unknown parameter: colour",
    });
    await expect(stripe.checkout.sessions.retrieve("cs_test_missing")).rejects.toMatchObject({
      type: "StripeInvalidRequestError",
      statusCode: 404,
      code: "resource_missing",
    });
    const noKey = await fetch(`${emulator.url}/v1/checkout/sessions`);
    expect(noKey.status).toBe(401);
    expect((await noKey.json()).error.type).toBe("invalid_request_error");
  });

  it("retrieves a session, expanding its line items", async () => {
    const created = await stripe.checkout.sessions.create(packParams());
    const session = await stripe.checkout.sessions.retrieve(created.id, { expand: ["line_items"] });
    expect(session.id).toBe(created.id);
    expect(session.line_items?.data).toHaveLength(1);
    expect(session.line_items?.data[0]).toMatchObject({
      description: "Starter pack (1,000 credits)",
      quantity: 2,
      amount_total: 1000,
      price: { unit_amount: 500, currency: "usd", type: "one_time" },
    });
  });

  it("lists sessions newest first with created, status and cursor filters", async () => {
    const a = await stripe.checkout.sessions.create(packParams());
    const b = await stripe.checkout.sessions.create(packParams());
    const c = await stripe.checkout.sessions.create(packParams());

    const recent = await stripe.checkout.sessions.list({ created: { gte: a.created }, limit: 100 });
    expect(recent.object).toBe("list");
    expect(recent.url).toBe("/v1/checkout/sessions");
    const ids = recent.data.map((s) => s.id);
    expect(ids.indexOf(c.id)).toBeLessThan(ids.indexOf(b.id));
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));

    const page = await stripe.checkout.sessions.list({
      created: { gte: a.created },
      limit: 1,
      starting_after: c.id,
    });
    expect(page.data.map((s) => s.id)).toEqual([b.id]);
    expect(page.has_more).toBe(true);

    const future = await stripe.checkout.sessions.list({ created: { gt: c.created + 3600 } });
    expect(future.data).toEqual([]);
    const old = await stripe.checkout.sessions.list({ created: { lte: a.created - 3600 } });
    expect(old.data).toEqual([]);

    await emulator.pay(b.id);
    const complete = await stripe.checkout.sessions.list({ created: { gte: a.created }, status: "complete" });
    expect(complete.data.map((s) => s.id)).toContain(b.id);
    expect(complete.data.map((s) => s.id)).not.toContain(c.id);
  });
});

describe("webhook endpoints", () => {
  it("creates, lists, updates, retrieves and deletes endpoints", async () => {
    const created = await stripe.webhookEndpoints.create({
      url: `${sink.url}/endpoint`,
      enabled_events: ["checkout.session.completed"],
      description: "Tollgate",
    });
    expect(created).toMatchObject({ object: "webhook_endpoint", status: "enabled", livemode: false });
    expect(created.id).toMatch(/^we_/);
    expect(created.secret).toMatch(/^whsec_/);

    const listed = await stripe.webhookEndpoints.list();
    const entry = listed.data.find((e) => e.id === created.id);
    expect(entry?.url).toBe(`${sink.url}/endpoint`);
    expect(entry?.secret).toBeUndefined();

    const updated = await stripe.webhookEndpoints.update(created.id, {
      enabled_events: ["checkout.session.completed", "checkout.session.async_payment_succeeded"],
      url: `${sink.url}/endpoint-v2`,
      disabled: true,
    });
    expect(updated).toMatchObject({ status: "disabled", url: `${sink.url}/endpoint-v2` });
    expect(updated.enabled_events).toHaveLength(2);
    expect((await stripe.webhookEndpoints.retrieve(created.id)).status).toBe("disabled");

    const deleted = await stripe.webhookEndpoints.del(created.id);
    expect(deleted).toMatchObject({ id: created.id, deleted: true });
    await expect(stripe.webhookEndpoints.retrieve(created.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe("payment and events", () => {
  it("delivers checkout.session.completed with a signature the SDK verifies", async () => {
    const endpoint = await stripe.webhookEndpoints.create({
      url: `${sink.url}/endpoint`,
      enabled_events: ["checkout.session.completed"],
    });
    const disabled = await stripe.webhookEndpoints.create({
      url: `${sink.url}/disabled`,
      enabled_events: ["*"],
    });
    await stripe.webhookEndpoints.update(disabled.id, { disabled: true });
    try {
      const session = await stripe.checkout.sessions.create(packParams());
      const { session: paid, events } = await emulator.pay(session.id);
      expect(paid).toMatchObject({ status: "complete", payment_status: "paid" });
      const completed = only(events);
      expect(completed.type).toBe("checkout.session.completed");

      const forwarded = only(forwardedFor(session.id));
      const provider = Stripe.createSubtleCryptoProvider();
      const signature = forwarded.headers["stripe-signature"] as string;
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      const event = await stripe.webhooks.constructEventAsync(
        forwarded.body,
        signature,
        WEBHOOK_SECRET,
        300,
        provider,
      );
      expect(event).toMatchObject({
        id: completed.id,
        object: "event",
        type: "checkout.session.completed",
        livemode: false,
        data: {
          object: {
            id: session.id,
            status: "complete",
            payment_status: "paid",
            metadata: { pack: "starter" },
          },
        },
      });
      await expect(
        stripe.webhooks.constructEventAsync(forwarded.body, signature, "whsec_wrong", 300, provider),
      ).rejects.toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);

      // An endpoint registered through the API gets its own copy, signed with its own secret.
      const direct = only(sink.received.filter((r) => r.path === "/endpoint" && r.event.id === completed.id));
      const header = direct.headers["stripe-signature"] as string;
      await stripe.webhooks.constructEventAsync(direct.body, header, endpoint.secret ?? "", 300, provider);
      await expect(
        stripe.webhooks.constructEventAsync(direct.body, header, WEBHOOK_SECRET, 300, provider),
      ).rejects.toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);
      expect(sink.received.filter((r) => r.path === "/disabled")).toEqual([]);

      const fetched = await stripe.events.retrieve(completed.id);
      expect(fetched).toMatchObject({ id: completed.id, pending_webhooks: 0 });
      const listed = await stripe.events.list({ type: "checkout.session.completed", limit: 100 });
      expect(listed.data.map((e) => e.id)).toContain(completed.id);
      await expect(emulator.pay(session.id)).rejects.toMatchObject({ statusCode: 400 });
    } finally {
      await stripe.webhookEndpoints.del(endpoint.id);
      await stripe.webhookEndpoints.del(disabled.id);
    }
  });

  it("sends completed (unpaid) then async_payment_succeeded for a delayed payment", async () => {
    const session = await stripe.checkout.sessions.create(packParams());
    await emulator.pay(session.id, { outcome: "async" });
    const delivered = forwardedFor(session.id).map((r) => [
      r.event.type,
      (r.event.data.object as Stripe.Checkout.Session).payment_status,
    ]);
    expect(delivered).toEqual([
      ["checkout.session.completed", "unpaid"],
      ["checkout.session.async_payment_succeeded", "paid"],
    ]);
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_status).toBe("paid");
  });

  it("can hold a delayed payment and fail it later", async () => {
    const session = await stripe.checkout.sessions.create(packParams());
    await emulator.pay(session.id, { paymentStatus: "unpaid" });
    expect(forwardedFor(session.id).map((r) => r.event.type)).toEqual(["checkout.session.completed"]);
    const res = await fetch(`${emulator.url}/_emulator/sessions/${session.id}/pay`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ outcome: "async_fail" }),
    });
    expect(res.status).toBe(200);
    expect(forwardedFor(session.id).map((r) => r.event.type)).toEqual([
      "checkout.session.completed",
      "checkout.session.async_payment_failed",
    ]);
    expect((await stripe.checkout.sessions.retrieve(session.id)).payment_status).toBe("unpaid");
  });

  it("resends an event with the same id, for replay tests", async () => {
    const session = await stripe.checkout.sessions.create(packParams());
    const { id } = only((await emulator.pay(session.id)).events);
    const res = await fetch(`${emulator.url}/_emulator/events/${id}/resend`, { method: "POST" });
    expect(res.status).toBe(200);
    const copies = forwardedFor(session.id);
    expect(copies.map((r) => r.event.id)).toEqual([id, id]);
    expect(new Set(copies.map((r) => r.body)).size).toBe(1);
    const log = await (await fetch(`${emulator.url}/_emulator/deliveries?event=${id}`)).json();
    expect(log.data.map((d: { status_code: number }) => d.status_code)).toEqual([200, 200]);
  });

  it("retries a failed delivery and logs every attempt", async () => {
    const flaky = await stripe.webhookEndpoints.create({
      url: `${sink.url}/flaky`,
      enabled_events: ["checkout.session.completed"],
    });
    try {
      const session = await stripe.checkout.sessions.create(packParams());
      const { id } = only((await emulator.pay(session.id)).events);
      const attempts = emulator.deliveries.filter((d) => d.event === id && d.webhook_endpoint === flaky.id);
      expect(attempts.map((d) => [d.attempt, d.status_code, d.ok])).toEqual([
        [1, 500, false],
        [2, 200, true],
      ]);
    } finally {
      await stripe.webhookEndpoints.del(flaky.id);
    }
  });
});

describe("hosted checkout page", () => {
  it("renders the pack and a Pay button, and redirects to the success URL once paid", async () => {
    const session = await stripe.checkout.sessions.create(packParams());
    const page = await fetch(session.url ?? "");
    expect(page.headers.get("content-type")).toContain("text/html");
    const html = await page.text();
    expect(html).toContain('id="pay"');
    expect(html).toContain("Starter pack (1,000 credits)");
    expect(html).toContain("$10.00");

    const submitted = await fetch(`${emulator.url}/checkout/${session.id}/pay`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "outcome=paid",
      redirect: "manual",
    });
    expect(submitted.status).toBe(303);
    expect(submitted.headers.get("location")).toBe(`${sink.url}/success?session_id=${session.id}`);
    expect(forwardedFor(session.id).map((r) => r.event.type)).toEqual(["checkout.session.completed"]);
    expect(emulator.requests.some((r) => r.method === "GET" && r.path === `/checkout/${session.id}`)).toBe(
      true,
    );
  });

  it("is payable in a real browser", async () => {
    expect(existsSync(CHROMIUM), "Debian chromium is required (.ci/run installs it)").toBe(true);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      const session = await stripe.checkout.sessions.create(packParams());
      const page = await browser.newPage();
      await page.goto(session.url ?? "");
      expect(await page.textContent("#total")).toBe("$10.00");
      await Promise.all([
        page.waitForURL(`${sink.url}/success?session_id=${session.id}`),
        page.click("#pay"),
      ]);
      expect(await page.textContent("h1")).toBe("Payment received");
      expect(forwardedFor(session.id).map((r) => r.event.type)).toEqual(["checkout.session.completed"]);
      expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe("complete");
    } finally {
      await browser.close();
    }
  }, 60_000);
});
