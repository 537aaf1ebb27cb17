/**
 * A local stand-in for the slice of the Stripe API Tollgate uses: Checkout Sessions, webhook endpoints
 * and events, plus a hosted checkout page and signed webhook delivery. `npm run dev` and the tests use it
 * whenever no real STRIPE_SECRET_KEY is configured. Point the `stripe` SDK at it with
 *
 *   new Stripe("sk_test_...", { host: "127.0.0.1", port, protocol: "http", httpClient: Stripe.createFetchHttpClient() })
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { DEV_DEFAULTS } from "../../src/config/rules.ts";
import {
  type CheckoutSession,
  completeSession,
  createSession,
  expireSession,
  isPastExpiry,
  listLineItems,
  listSessions,
  retrieveSession,
  type SessionRecord,
  sessionView,
  successRedirect,
} from "./checkout-sessions.ts";
import {
  authenticate,
  checkIdempotentReuse,
  type EmulatorRequest,
  header,
  type IdempotencyEntry,
  listOf,
  newRequestEntry,
  type Route,
  readBody,
  route,
  sendJson,
  toApiError,
  unrecognized,
  urlHost,
} from "./http.ts";
import { renderCheckoutPage, renderMessagePage } from "./page.ts";
import { canonicalJson, parseStripeParams } from "./params.ts";
import { invalidRequest, noSuchResource, type Params } from "./util.ts";
import {
  buildEvent,
  type CheckoutEventType,
  createDeliverer,
  createEndpoint,
  deleteEndpoint,
  type EmulatorDelivery,
  type EmulatorEvent,
  type EndpointRecord,
  listEndpoints,
  listEvents,
  retrieveEndpoint,
  updateEndpoint,
} from "./webhooks.ts";

export type { CheckoutSession, EmulatorDelivery, EmulatorEvent, EmulatorRequest };

export type PaymentOutcome = "paid" | "async" | "async_fail" | "async_pending";

export type StripeEmulatorOptions = {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Every event is also POSTed here, signed with `webhookSecret`, like `stripe listen --forward-to`. */
  forwardTo?: string;
  webhookSecret?: string;
  /** `true` logs to the console; a function receives each line instead. */
  log?: boolean | ((line: string) => void);
  /** Attempts per delivery target, first one included. */
  deliveryAttempts?: number;
  /** Delay before the first retry; each further retry waits three times longer. */
  retryBaseDelayMs?: number;
  deliveryTimeoutMs?: number;
};

export type StripeEmulator = {
  url: string;
  port: number;
  webhookSecret: string;
  close(): Promise<void>;
  /** Every event created so far, oldest first. */
  events: EmulatorEvent[];
  requests: EmulatorRequest[];
  deliveries: EmulatorDelivery[];
  pay(
    sessionId: string,
    options?: { outcome?: PaymentOutcome; paymentStatus?: "paid" | "unpaid" },
  ): Promise<{ session: CheckoutSession; events: EmulatorEvent[] }>;
  /** `deliveries` holds undefined for a target not tried because the emulator was closing. */
  resend(
    eventId: string,
    options?: { webhookEndpoint?: string },
  ): Promise<{ event: EmulatorEvent; deliveries: Array<EmulatorDelivery | undefined> }>;
};

type RequestContext = { method: string; path: string; raw: string };

// Used for events only when the session was created without a Stripe-Version header (i.e. not by the SDK).
const FALLBACK_API_VERSION = Stripe.API_VERSION;
const OUTCOMES = new Set<string>(["paid", "async", "async_fail", "async_pending"]);

export async function startStripeEmulator({
  port = 0,
  host = "127.0.0.1",
  forwardTo,
  webhookSecret = DEV_DEFAULTS.STRIPE_WEBHOOK_SECRET,
  log = false,
  deliveryAttempts = 4,
  retryBaseDelayMs = 250,
  deliveryTimeoutMs = 10_000,
}: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const write: (line: string) => void =
    typeof log === "function" ? log : log ? (line) => console.log(`[stripe-emulator] ${line}`) : () => {};
  const sessions = new Map<string, SessionRecord>();
  const endpoints = new Map<string, EndpointRecord>();
  const events: EmulatorEvent[] = [];
  const pendingByEvent = new Map<string, Set<string>>();
  const deliveries: EmulatorDelivery[] = [];
  const requests: EmulatorRequest[] = [];
  const idempotency = new Map<string, IdempotencyEntry>();
  const lifetime = new AbortController();
  const background = new Set<Promise<unknown>>();
  let seq = 0;
  let baseUrl = "";

  const deliverer = createDeliverer({
    forwardTo,
    webhookSecret,
    endpoints,
    pendingByEvent,
    deliveries,
    log: write,
    attempts: deliveryAttempts,
    retryBaseDelayMs,
    timeoutMs: deliveryTimeoutMs,
    signal: lifetime.signal,
  });

  function emit(type: CheckoutEventType, record: SessionRecord) {
    const { event, pendingEndpoints } = buildEvent(type, sessionView(record), {
      apiVersion: record.apiVersion ?? FALLBACK_API_VERSION,
      endpoints,
    });
    events.push(event);
    pendingByEvent.set(event.id, pendingEndpoints);
    write(`event ${type} [${event.id}] for ${record.session.id}`);
    return event;
  }

  const eventView = (event: EmulatorEvent): EmulatorEvent => ({
    ...structuredClone(event),
    pending_webhooks: pendingByEvent.get(event.id)?.size ?? 0,
  });

  function findEvent(id: string) {
    const event = events.find((e) => e.id === id);
    if (!event) throw noSuchResource("event", id, { param: "id" });
    return event;
  }

  function inBackground(promise: Promise<unknown>) {
    background.add(promise);
    promise.finally(() => background.delete(promise));
  }

  // Stripe expires sessions on its own clock; here it happens whenever the emulator is next asked anything.
  function sweepExpired() {
    for (const record of sessions.values()) {
      if (isPastExpiry(record)) {
        expireSession(record);
        inBackground(deliverer.deliver(emit("checkout.session.expired", record)));
      }
    }
  }

  /**
   * Completes a session the way a customer submitting Checkout would. `outcome`: `paid` (default),
   * `async` (completed while unpaid, then async_payment_succeeded), `async_fail` (then async_payment_failed),
   * or `async_pending` (completed while unpaid; settle later by paying again with `async` or `async_fail`).
   * Resolves once every resulting event has been delivered (or its retries exhausted).
   */
  async function pay(
    sessionId: string,
    { outcome, paymentStatus }: { outcome?: PaymentOutcome; paymentStatus?: "paid" | "unpaid" } = {},
  ) {
    sweepExpired();
    const mode = outcome ?? (paymentStatus === "unpaid" ? "async_pending" : "paid");
    if (!OUTCOMES.has(mode)) {
      throw invalidRequest(`Unknown outcome '${mode}': use one of ${[...OUTCOMES].join(", ")}.`, {
        param: "outcome",
      });
    }
    const record = sessions.get(sessionId);
    if (!record) throw noSuchResource("checkout.session", sessionId, { param: "session" });
    const { session } = record;
    const emitted: EmulatorEvent[] = [];
    const publish = async (type: CheckoutEventType) => {
      const event = emit(type, record);
      emitted.push(event);
      await deliverer.deliver(event);
    };
    if (session.status === "open") {
      completeSession(record, mode === "paid" ? "paid" : "unpaid");
      record.asyncPending = mode !== "paid";
      await publish("checkout.session.completed");
    } else if (!(session.status === "complete" && record.asyncPending)) {
      throw invalidRequest(`This Checkout Session is ${session.status} and can no longer be paid.`, {
        code: "checkout_session_not_open",
      });
    }
    if (record.asyncPending && mode !== "async_pending") {
      record.asyncPending = false;
      if (mode === "async_fail") {
        await publish("checkout.session.async_payment_failed");
      } else {
        session.payment_status = "paid";
        await publish("checkout.session.async_payment_succeeded");
      }
    }
    return { session: sessionView(record), events: emitted.map(eventView) };
  }

  /** Delivers an already-sent event again, same id and payload, as Stripe does when it retries or resends. */
  async function resend(eventId: string, { webhookEndpoint }: { webhookEndpoint?: string } = {}) {
    const event = findEvent(eventId);
    const results = await deliverer.deliver(event, { endpointId: webhookEndpoint });
    return { event: eventView(event), deliveries: results };
  }

  function expireOpenSession(id: string) {
    const { record } = retrieveSession(sessions, id, {});
    if (record.session.status !== "open") {
      throw invalidRequest(
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${record.session.status}".`,
      );
    }
    expireSession(record);
    inBackground(deliverer.deliver(emit("checkout.session.expired", record)));
    return sessionView(record);
  }

  const api: Route[] = [
    [
      "POST",
      /^\/v1\/checkout\/sessions$/,
      ({ params, apiVersion }) => {
        const { record, expand } = createSession(params, { baseUrl, apiVersion, seq: ++seq });
        sessions.set(record.session.id, record);
        return sessionView(record, expand);
      },
    ],
    ["GET", /^\/v1\/checkout\/sessions$/, ({ params }) => listSessions(sessions, params)],
    [
      "GET",
      /^\/v1\/checkout\/sessions\/([^/]+)$/,
      ({ params, id }) => {
        const { record, expand } = retrieveSession(sessions, id, params);
        return sessionView(record, expand);
      },
    ],
    [
      "GET",
      /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/,
      ({ params, id }) => listLineItems(retrieveSession(sessions, id, {}).record, params),
    ],
    ["POST", /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, ({ id }) => expireOpenSession(id)],
    ["GET", /^\/v1\/webhook_endpoints$/, ({ params }) => listEndpoints(endpoints, params)],
    ["POST", /^\/v1\/webhook_endpoints$/, ({ params }) => createEndpoint(endpoints, params, ++seq)],
    [
      "GET",
      /^\/v1\/webhook_endpoints\/([^/]+)$/,
      ({ params, id }) => retrieveEndpoint(endpoints, id, params),
    ],
    ["POST", /^\/v1\/webhook_endpoints\/([^/]+)$/, ({ params, id }) => updateEndpoint(endpoints, id, params)],
    ["DELETE", /^\/v1\/webhook_endpoints\/([^/]+)$/, ({ id }) => deleteEndpoint(endpoints, id)],
    ["GET", /^\/v1\/events$/, ({ params }) => listEvents(events, eventView, params)],
    ["GET", /^\/v1\/events\/([^/]+)$/, ({ id }) => eventView(findEvent(id))],
  ];

  const control: Route[] = [
    ["GET", /^\/_emulator\/health$/, () => ({ ok: true, url: baseUrl })],
    ["GET", /^\/_emulator\/requests$/, ({ params }) => listOf(requests, params, ["method", "path"])],
    ["DELETE", /^\/_emulator\/requests$/, () => ({ cleared: requests.splice(0).length })],
    ["GET", /^\/_emulator\/deliveries$/, ({ params }) => listOf(deliveries, params, ["event", "url"])],
    [
      "POST",
      /^\/_emulator\/sessions\/([^/]+)\/pay$/,
      ({ params, id }) =>
        pay(id, {
          outcome: params.outcome as PaymentOutcome | undefined,
          paymentStatus: params.paymentStatus as "paid" | "unpaid" | undefined,
        }),
    ],
    [
      "POST",
      /^\/_emulator\/events\/([^/]+)\/resend$/,
      ({ params, id }) => resend(id, { webhookEndpoint: params.webhook_endpoint as string | undefined }),
    ],
  ];

  async function handleApi(req: IncomingMessage, res: ServerResponse, { method, path, raw }: RequestContext) {
    const idempotencyKey = header(req, "idempotency-key");
    const apiVersion = header(req, "stripe-version");
    const entry = newRequestEntry(method, path, idempotencyKey ?? null);
    const requestId = entry.id;
    requests.push(entry);
    const headers: Record<string, string> = {
      "Request-Id": requestId,
      "Stripe-Version": apiVersion ?? FALLBACK_API_VERSION,
    };
    if (method === "POST" && idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      entry.status_code = status;
      sendJson(res, status, body, { ...headers, ...extra });
    };
    try {
      entry.params = parseStripeParams(raw);
      const apiKey = authenticate(req);
      const [handler, id] = route(api, method, path);
      const scope = method === "POST" && idempotencyKey ? `${apiKey}\u0000${idempotencyKey}` : null;
      const fingerprint = canonicalJson(entry.params);
      if (scope) {
        const prior = idempotency.get(scope);
        if (prior) {
          checkIdempotentReuse(prior, {
            method,
            path,
            fingerprint,
            idempotencyKey: idempotencyKey as string,
          });
          entry.replayed = true;
          return reply(prior.status, prior.body, {
            "Idempotent-Replayed": "true",
            "Original-Request": prior.requestId,
          });
        }
        idempotency.set(scope, { method, path, fingerprint, requestId, inFlight: true });
      }
      try {
        sweepExpired();
        const body = await handler({ params: entry.params, id, apiVersion });
        // Only executed requests are remembered; a rejected one may be retried with the same key.
        if (scope) idempotency.set(scope, { method, path, fingerprint, requestId, status: 200, body });
        return reply(200, body);
      } catch (error) {
        if (scope) idempotency.delete(scope);
        throw error;
      }
    } catch (error) {
      const apiError = toApiError(error, write);
      return reply(apiError.statusCode, apiError.toBody());
    }
  }

  async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    { method, path, raw }: RequestContext,
  ) {
    try {
      const params: Params = (header(req, "content-type") ?? "").includes("json")
        ? JSON.parse(raw || "{}")
        : parseStripeParams(raw);
      const [handler, id] = route(control, method, path);
      sendJson(res, 200, await handler({ params, id }));
    } catch (error) {
      const apiError = toApiError(error, write);
      sendJson(res, apiError.statusCode, apiError.toBody());
    }
  }

  async function handleCheckoutPage(res: ServerResponse, { method, path, raw }: RequestContext) {
    const entry = newRequestEntry(method, path, null);
    requests.push(entry);
    const html = (status: number, body: string, headers: Record<string, string> = {}) => {
      entry.status_code = status;
      res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", ...headers }).end(body);
    };
    sweepExpired();
    const match = /^\/checkout\/([^/]+)(\/pay)?$/.exec(path);
    const record = match && sessions.get(decodeURIComponent(match[1] as string));
    if (!record) {
      return html(404, renderMessagePage("Not found", "There is no checkout session at this address."));
    }
    if (method === "GET" && !match[2]) return html(200, renderCheckoutPage(record));
    if (method !== "POST" || !match[2]) {
      return html(405, renderMessagePage("Method not allowed", `${method} ${path}`));
    }
    entry.params = parseStripeParams(raw);
    try {
      await pay(record.session.id, { outcome: (entry.params.outcome || "paid") as PaymentOutcome });
    } catch (error) {
      return html(400, renderMessagePage("Payment not possible", (error as Error).message));
    }
    const location = successRedirect(record);
    if (location) return html(303, "", { Location: location });
    return html(200, renderMessagePage("Payment complete", "You can close this window."));
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const method = req.method ?? "GET";
    const path = url.pathname;
    try {
      const raw = method === "GET" || method === "DELETE" ? url.search.slice(1) : await readBody(req);
      const context = { method, path, raw };
      write(`<-- ${method} ${path}`);
      if (path.startsWith("/v1/")) await handleApi(req, res, context);
      else if (path.startsWith("/_emulator/")) await handleControl(req, res, context);
      else if (path.startsWith("/checkout/")) await handleCheckoutPage(res, context);
      else if (path === "/" && method === "GET") sendJson(res, 200, { ok: true, url: baseUrl });
      else sendJson(res, 404, unrecognized(method, path).toBody());
    } catch (error) {
      if (!res.headersSent) {
        const apiError = toApiError(error, write);
        sendJson(res, apiError.statusCode, apiError.toBody());
      } else {
        res.destroy();
      }
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  baseUrl = `http://${urlHost(host)}:${actualPort}`;
  write(`listening on ${baseUrl}${forwardTo ? `, forwarding events to ${forwardTo}` : ""}`);

  async function close() {
    lifetime.abort();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await Promise.allSettled([...background]);
    await closed;
  }

  return { url: baseUrl, port: actualPort, webhookSecret, close, events, requests, deliveries, pay, resend };
}
