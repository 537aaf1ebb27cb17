import type Stripe from "stripe";
import type { CheckoutSession } from "./checkout-sessions.ts";
import { newWebhookSecret, signatureHeader } from "./signing.ts";
import {
  invalidRequest,
  newId,
  noSuchResource,
  nowSeconds,
  PAGINATION_PARAMS,
  type Params,
  paginate,
  parseBoolean,
  parseExpand,
  parseMetadata,
  parseRange,
  parseStringArray,
  parseUrl,
  rejectUnknownParams,
  requireString,
} from "./util.ts";

/** The stored endpoint keeps its signing secret; the API shows it only in the create response. */
export type EndpointRecord = { endpoint: Stripe.WebhookEndpoint & { secret: string }; seq: number };
export type CheckoutEventType =
  | "checkout.session.completed"
  | "checkout.session.expired"
  | "checkout.session.async_payment_succeeded"
  | "checkout.session.async_payment_failed";
/** Stripe's event envelope around a Checkout Session, the only object the emulator emits events for. */
export type EmulatorEvent = Omit<Stripe.EventBase, "data" | "type"> & {
  type: CheckoutEventType;
  data: { object: CheckoutSession };
};
/** One attempt to deliver one event to one URL. */
export type EmulatorDelivery = {
  id: string;
  event: string;
  type: string;
  url: string;
  webhook_endpoint: string | null;
  attempt: number;
  status_code: number | null;
  error: string | null;
  ok: boolean;
  created: number;
};
type DeliveryTarget = { url: string; secret: string; endpointId: string | null };

const CREATE_PARAMS = new Set([
  "enabled_events",
  "url",
  "api_version",
  "connect",
  "description",
  "expand",
  "metadata",
]);
const UPDATE_PARAMS = new Set(["description", "disabled", "enabled_events", "expand", "metadata", "url"]);
const EVENT_LIST_PARAMS = new Set([...PAGINATION_PARAMS, "created", "delivery_success", "type", "types"]);
const NOTHING_EXPANDABLE = new Set<string>();

// ---- Webhook endpoints ------------------------------------------------------------------------

function parseEnabledEvents(value: unknown) {
  const events = parseStringArray(value, "enabled_events");
  if (events.length === 0) throw invalidRequest("Invalid array", { param: "enabled_events" });
  events.forEach((type, i) => {
    if (type !== "*" && !/^[a-z0-9_]+(\.[a-z0-9_]+)+$/.test(type)) {
      throw invalidRequest(`Invalid enabled_events[${i}]: ${type} is not a known event type`, {
        param: `enabled_events[${i}]`,
      });
    }
  });
  return events;
}

const publicEndpoint = ({ endpoint }: EndpointRecord): Stripe.WebhookEndpoint => {
  const { secret: _secret, ...rest } = structuredClone(endpoint);
  return rest;
};

function findEndpoint(endpoints: Map<string, EndpointRecord>, id: string) {
  const record = endpoints.get(id);
  if (!record) throw noSuchResource("webhook endpoint", id, { param: "id" });
  return record;
}

export function createEndpoint(endpoints: Map<string, EndpointRecord>, params: Params, seq: number) {
  rejectUnknownParams(params, CREATE_PARAMS);
  parseExpand(params.expand, NOTHING_EXPANDABLE);
  if (params.url === undefined) throw invalidRequest("Missing required param: url.", { param: "url" });
  if (params.enabled_events === undefined) {
    throw invalidRequest("Missing required param: enabled_events.", { param: "enabled_events" });
  }
  const endpoint: EndpointRecord["endpoint"] = {
    id: newId("we"),
    object: "webhook_endpoint",
    api_version: (params.api_version ?? null) as string | null,
    application: null,
    created: nowSeconds(),
    description: params.description
      ? requireString(params.description, "description", { maxLength: 5000 })
      : null,
    enabled_events: parseEnabledEvents(params.enabled_events),
    livemode: false,
    metadata: parseMetadata(params.metadata),
    secret: newWebhookSecret(),
    status: "enabled",
    url: parseUrl(params.url, "url"),
  };
  endpoints.set(endpoint.id, { endpoint, seq });
  // Like Stripe, the signing secret is only ever returned by the create call.
  return structuredClone(endpoint);
}

export function retrieveEndpoint(endpoints: Map<string, EndpointRecord>, id: string, query: Params) {
  rejectUnknownParams(query, new Set(["expand"]));
  return publicEndpoint(findEndpoint(endpoints, id));
}

export function updateEndpoint(endpoints: Map<string, EndpointRecord>, id: string, params: Params) {
  const record = findEndpoint(endpoints, id);
  rejectUnknownParams(params, UPDATE_PARAMS);
  parseExpand(params.expand, NOTHING_EXPANDABLE);
  const next = structuredClone(record.endpoint);
  if (params.url !== undefined) next.url = parseUrl(params.url, "url");
  if (params.enabled_events !== undefined) next.enabled_events = parseEnabledEvents(params.enabled_events);
  if (params.disabled !== undefined)
    next.status = parseBoolean(params.disabled, "disabled") ? "disabled" : "enabled";
  if (params.description !== undefined) {
    next.description = params.description === "" ? null : requireString(params.description, "description");
  }
  if (params.metadata === "") {
    next.metadata = {};
  } else if (params.metadata !== undefined) {
    // An empty value unsets that key; the others are merged, as on every Stripe update.
    const merged: Params = { ...next.metadata, ...(params.metadata as Params) };
    for (const [key, value] of Object.entries(params.metadata as Params))
      if (value === "") delete merged[key];
    next.metadata = parseMetadata(merged);
  }
  record.endpoint = next;
  return publicEndpoint(record);
}

export function deleteEndpoint(
  endpoints: Map<string, EndpointRecord>,
  id: string,
): Stripe.DeletedWebhookEndpoint {
  findEndpoint(endpoints, id);
  endpoints.delete(id);
  return { id, object: "webhook_endpoint", deleted: true };
}

export function listEndpoints(endpoints: Map<string, EndpointRecord>, query: Params) {
  rejectUnknownParams(query, new Set(PAGINATION_PARAMS));
  const items = [...endpoints.values()].sort((a, b) => b.seq - a.seq).map(publicEndpoint);
  return paginate(items, query, "/v1/webhook_endpoints", "webhook endpoint");
}

const listens = (endpoint: Stripe.WebhookEndpoint, type: string) =>
  endpoint.status === "enabled" &&
  (endpoint.enabled_events.includes("*") || endpoint.enabled_events.includes(type));

// ---- Events -----------------------------------------------------------------------------------

export function buildEvent(
  type: CheckoutEventType,
  object: CheckoutSession,
  { apiVersion, endpoints }: { apiVersion: string; endpoints: Map<string, EndpointRecord> },
): { event: EmulatorEvent; pendingEndpoints: Set<string> } {
  const listeners = [...endpoints.values()].filter(({ endpoint }) => listens(endpoint, type));
  return {
    event: {
      id: newId("evt"),
      object: "event",
      api_version: apiVersion,
      created: nowSeconds(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: listeners.length,
      // Checkout events are caused by the customer, not by an API request, so Stripe leaves these null.
      request: { id: null, idempotency_key: null },
      type,
    },
    pendingEndpoints: new Set(listeners.map(({ endpoint }) => endpoint.id)),
  };
}

function typeMatcher(pattern: string) {
  const regex = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
  return (type: string) => regex.test(type);
}

export function listEvents(
  events: EmulatorEvent[],
  eventView: (event: EmulatorEvent) => EmulatorEvent,
  query: Params,
) {
  rejectUnknownParams(query, EVENT_LIST_PARAMS);
  parseExpand(query.expand, NOTHING_EXPANDABLE);
  if (query.type !== undefined && query.types !== undefined) {
    throw invalidRequest("You may only specify one of these parameters: type, types.");
  }
  const patterns =
    query.types !== undefined
      ? parseStringArray(query.types, "types")
      : query.type !== undefined
        ? [query.type as string]
        : [];
  const matchers = patterns.map(typeMatcher);
  const inRange = parseRange(query.created, "created");
  const items = events
    .filter(
      (event) => inRange(event.created) && (matchers.length === 0 || matchers.some((m) => m(event.type))),
    )
    .reverse()
    .map(eventView);
  return paginate(items, query, "/v1/events", "event");
}

// ---- Delivery ---------------------------------------------------------------------------------

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * POSTs events to the `forwardTo` URL (signed with `webhookSecret`, like `stripe listen --forward-to`)
 * and to each enabled endpoint subscribed to the type (signed with that endpoint's secret), retrying
 * failures a bounded number of times. Every attempt lands in `deliveries`.
 */
export function createDeliverer({
  forwardTo,
  webhookSecret,
  endpoints,
  pendingByEvent,
  deliveries,
  log,
  attempts,
  retryBaseDelayMs,
  timeoutMs,
  signal,
}: {
  forwardTo: string | undefined;
  webhookSecret: string;
  endpoints: Map<string, EndpointRecord>;
  pendingByEvent: Map<string, Set<string>>;
  deliveries: EmulatorDelivery[];
  log: (line: string) => void;
  attempts: number;
  retryBaseDelayMs: number;
  timeoutMs: number;
  signal: AbortSignal;
}) {
  /** Resolves to the last attempt, or undefined when the emulator closed before the first. */
  async function deliverTo(target: DeliveryTarget, event: EmulatorEvent, payload: string) {
    let record: EmulatorDelivery | undefined;
    for (let attempt = 1; attempt <= attempts && !signal.aborted; attempt++) {
      record = {
        id: newId("dlv"),
        event: event.id,
        type: event.type,
        url: target.url,
        webhook_endpoint: target.endpointId,
        attempt,
        status_code: null,
        error: null,
        ok: false,
        created: Date.now(),
      };
      try {
        const response = await fetch(target.url, {
          method: "POST",
          headers: {
            "Content-Type": "application/json; charset=utf-8",
            Accept: "*/*; q=0.5, application/xml",
            "Cache-Control": "no-cache",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            // Re-signed on every attempt, so a retry after a slow failure still passes the tolerance check.
            "Stripe-Signature": signatureHeader(payload, target.secret),
          },
          body: payload,
          redirect: "manual",
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.arrayBuffer().catch(() => {});
        record.status_code = response.status;
        record.ok = response.status >= 200 && response.status < 300;
      } catch (error) {
        // fetch hides the useful part ("ECONNREFUSED") in the cause.
        const failure = error as
          | { message?: string; cause?: { code?: string; message?: string } }
          | undefined;
        const cause = failure?.cause?.code ?? failure?.cause?.message;
        record.error = `${failure?.message ?? error}${cause ? ` (${cause})` : ""}`;
      }
      deliveries.push(record);
      const outcome = record.status_code ?? record.error;
      if (record.ok) {
        log(`--> ${event.type} [${event.id}] ${target.url} ${outcome}`);
        if (target.endpointId) pendingByEvent.get(event.id)?.delete(target.endpointId);
        return record;
      }
      if (attempt < attempts && !signal.aborted) {
        const delay = retryBaseDelayMs * 3 ** (attempt - 1);
        log(
          `--> ${event.type} [${event.id}] ${target.url} failed (${outcome}); retry ${attempt} in ${delay}ms`,
        );
        await sleep(delay, signal);
      } else {
        log(
          `--> ${event.type} [${event.id}] ${target.url} failed (${outcome}); giving up after ${attempt} attempts`,
        );
      }
    }
    return record;
  }

  /** Delivers to every target, or only to `endpointId` when given; resolves once all attempts are done. */
  async function deliver(event: EmulatorEvent, { endpointId }: { endpointId?: string } = {}) {
    const targets: DeliveryTarget[] = [];
    if (endpointId) {
      const { endpoint } = findEndpoint(endpoints, endpointId);
      targets.push({ url: endpoint.url, secret: endpoint.secret, endpointId });
    } else {
      if (forwardTo) targets.push({ url: forwardTo, secret: webhookSecret, endpointId: null });
      for (const { endpoint } of endpoints.values()) {
        if (listens(endpoint, event.type)) {
          targets.push({ url: endpoint.url, secret: endpoint.secret, endpointId: endpoint.id });
        }
      }
    }
    // Stripe sends its own pretty-printed JSON; receivers must verify these exact bytes.
    const payload = JSON.stringify(event, null, 2);
    return Promise.all(targets.map((target) => deliverTo(target, event, payload)));
  }

  return { deliver };
}
