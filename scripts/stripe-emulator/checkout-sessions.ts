import type Stripe from "stripe";
import {
  invalidRequest,
  isHash,
  type List,
  newId,
  noSuchResource,
  nowSeconds,
  PAGINATION_PARAMS,
  type Params,
  paginate,
  parseExpand,
  parseInteger,
  parseMetadata,
  parseRange,
  parseUrl,
  randomToken,
  rejectUnknownParams,
  requireString,
} from "./util.ts";

/**
 * A Checkout Session as the emulator sends it: Stripe's shape, less the fields it never sends
 * (`allowed_payment_method_types`, the customer's business and individual names), with the amounts every
 * payment-mode session has, and with `expand[]`ed line items and payment intent in its own smaller shapes.
 */
export type CheckoutSession = Omit<
  Stripe.Checkout.Session,
  "allowed_payment_method_types" | "customer_details" | "line_items" | "payment_intent"
> & {
  amount_total: number;
  currency: string;
  customer_details: Omit<Stripe.Checkout.Session.CustomerDetails, "business_name" | "individual_name"> | null;
  line_items?: List<LineItem>;
  payment_intent: string | PaymentIntentView | null;
};
export type LineItem = ReturnType<typeof parseLineItem>;
/** The few PaymentIntent fields `expand[]=payment_intent` shows. */
export type PaymentIntentView = Pick<
  Stripe.PaymentIntent,
  | "id"
  | "object"
  | "amount"
  | "amount_received"
  | "created"
  | "currency"
  | "customer"
  | "livemode"
  | "metadata"
  | "payment_method_types"
  | "status"
>;

/** Everything the emulator keeps about a session; `session` is what the API shows of it. */
export type SessionRecord = {
  session: CheckoutSession;
  lineItems: LineItem[];
  /** Orders sessions created within the same second. */
  seq: number;
  /** The Stripe-Version the session was created with; its events are rendered in it. */
  apiVersion: string | undefined;
  paymentIntentMetadata: Record<string, string>;
  paymentIntentCreated: number | null;
  /** Completed while unpaid, and not yet settled by async_payment_succeeded or _failed. */
  asyncPending: boolean;
};

// Every top-level param Stripe's Session create takes; the emulator stores the ones it does not model.
const CREATE_PARAMS = new Set(
  (
    "adaptive_pricing after_expiration allow_promotion_codes allowed_payment_method_types automatic_tax " +
    "billing_address_collection branding_settings cancel_url client_reference_id consent_collection currency " +
    "custom_fields custom_text customer customer_account customer_creation customer_email customer_update " +
    "discounts excluded_payment_method_types expand expires_at integration_identifier invoice_creation " +
    "line_items locale managed_payments metadata mode name_collection optional_items origin_context " +
    "payment_intent_data payment_method_collection payment_method_configuration payment_method_data " +
    "payment_method_options permissions phone_number_collection redirect_on_completion return_url " +
    "saved_payment_method_options setup_intent_data shipping_address_collection shipping_options submit_type " +
    "subscription_data success_url tax_id_collection ui_mode wallet_options"
  ).split(" "),
);
const LINE_ITEM_PARAMS = new Set([
  "adjustable_quantity",
  "metadata",
  "price",
  "price_data",
  "quantity",
  "tax_rates",
]);
const PRICE_DATA_PARAMS = new Set([
  "currency",
  "product",
  "product_data",
  "recurring",
  "tax_behavior",
  "unit_amount",
  "unit_amount_decimal",
]);
const PRODUCT_DATA_PARAMS = new Set(["description", "images", "metadata", "name", "tax_code", "tax_details"]);
const LIST_PARAMS = new Set([
  ...PAGINATION_PARAMS,
  "created",
  "customer",
  "customer_account",
  "customer_details",
  "payment_intent",
  "payment_link",
  "status",
  "subscription",
]);
const EXPANDABLE = new Set(["line_items", "payment_intent", "customer"]);
const STATUSES = new Set(["open", "complete", "expired"]);

// Stripe refuses Checkout totals below roughly 50 cents in the settlement currency.
const MINIMUM_AMOUNT: Record<string, number> = { usd: 50, eur: 50, gbp: 30, cad: 50, aud: 50, chf: 50 };
const MAXIMUM_AMOUNT = 99_999_999;
const DAY = 24 * 60 * 60;

export function createSession(
  params: Params,
  { baseUrl, apiVersion, seq }: { baseUrl: string; apiVersion: string | undefined; seq: number },
) {
  rejectUnknownParams(params, CREATE_PARAMS);
  const expand = parseExpand(params.expand, EXPANDABLE);
  if (params.mode === undefined) throw invalidRequest("Missing required param: mode.", { param: "mode" });
  if (params.mode !== "payment") {
    throw invalidRequest(`This emulator only supports mode=payment, not '${params.mode}'.`, {
      param: "mode",
    });
  }
  if (params.ui_mode !== undefined && params.ui_mode !== "hosted_page" && params.ui_mode !== "hosted") {
    throw invalidRequest(`This emulator only supports hosted Checkout, not ui_mode=${params.ui_mode}.`, {
      param: "ui_mode",
    });
  }
  const lineItems = parseLineItems(params.line_items);
  const currency = (lineItems[0] as LineItem).currency;
  const amountTotal = lineItems.reduce((sum, item) => sum + item.amount_total, 0);
  if (amountTotal < (MINIMUM_AMOUNT[currency] ?? 0)) {
    throw invalidRequest(
      `The Checkout Session's total amount due must add up to at least ${MINIMUM_AMOUNT[currency]} in the smallest unit of ${currency}.`,
      { param: "line_items" },
    );
  }
  if (amountTotal > MAXIMUM_AMOUNT) {
    throw invalidRequest(`The Checkout Session's total amount due must be no more than ${MAXIMUM_AMOUNT}.`, {
      param: "line_items",
    });
  }
  const created = nowSeconds();
  let expiresAt = created + DAY;
  if (params.expires_at !== undefined) {
    expiresAt = parseInteger(params.expires_at, "expires_at");
    if (expiresAt < created + 30 * 60 || expiresAt > created + DAY) {
      throw invalidRequest(
        "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
        { param: "expires_at" },
      );
    }
  }
  const successUrl = params.success_url === undefined ? null : parseUrl(params.success_url, "success_url");
  const cancelUrl = params.cancel_url === undefined ? null : parseUrl(params.cancel_url, "cancel_url");
  const customerEmail = params.customer_email === undefined ? null : parseEmail(params.customer_email);
  const clientReferenceId =
    params.client_reference_id === undefined
      ? null
      : requireString(params.client_reference_id, "client_reference_id", { maxLength: 200 });
  const paymentIntentData = (params.payment_intent_data ?? {}) as Params;
  const id = `cs_test_a1${randomToken(56)}`;
  // Params the emulator does not model are stored as given, unchecked, as Stripe would echo them.
  const session: CheckoutSession = {
    id,
    object: "checkout.session",
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: params.allow_promotion_codes === "true" ? true : null,
    amount_subtotal: amountTotal,
    amount_total: amountTotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: (params.billing_address_collection ??
      null) as Stripe.Checkout.Session.BillingAddressCollection | null,
    cancel_url: cancelUrl,
    client_reference_id: clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: {
      after_submit: null,
      shipping_address: null,
      submit: null,
      terms_of_service_acceptance: null,
    },
    customer: (params.customer ?? null) as string | null,
    customer_account: null,
    customer_creation: params.customer
      ? null
      : ((params.customer_creation ?? "if_required") as Stripe.Checkout.Session.CustomerCreation),
    customer_details: customerEmail
      ? { address: null, email: customerEmail, name: null, phone: null, tax_exempt: "none", tax_ids: null }
      : null,
    customer_email: customerEmail,
    discounts: [],
    expires_at: expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: (params.locale ?? null) as Stripe.Checkout.Session.Locale | null,
    managed_payments: null,
    metadata: parseMetadata(params.metadata),
    mode: "payment",
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: "if_required",
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: (params.allowed_payment_method_types ?? ["card"]) as string[],
    payment_status: "unpaid",
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: (params.submit_type ?? null) as Stripe.Checkout.Session.SubmitType | null,
    subscription: null,
    success_url: successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted_page",
    url: `${baseUrl}/checkout/${id}`,
    wallet_options: null,
  };
  const record: SessionRecord = {
    session,
    lineItems,
    seq,
    apiVersion,
    paymentIntentMetadata: parseMetadata(paymentIntentData.metadata, "payment_intent_data[metadata]"),
    paymentIntentCreated: null,
    asyncPending: false,
  };
  return { record, expand };
}

function parseEmail(value: unknown) {
  const email = requireString(value, "customer_email", { maxLength: 800 });
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    throw invalidRequest(`Invalid email address: ${email}`, { param: "customer_email" });
  }
  return email;
}

function parseLineItems(value: unknown) {
  if (value === undefined) {
    throw invalidRequest("`line_items` is required in `payment` mode.", { param: "line_items" });
  }
  if (!Array.isArray(value) || value.length === 0)
    throw invalidRequest("Invalid array", { param: "line_items" });
  const items = value.map((item, i) => parseLineItem(item, `line_items[${i}]`));
  if (new Set(items.map((item) => item.currency)).size > 1) {
    throw invalidRequest("All line items must have the same currency.", { param: "line_items" });
  }
  return items;
}

function parseLineItem(item: unknown, param: string) {
  if (!isHash(item)) throw invalidRequest("Invalid hash", { param });
  rejectUnknownParams(item, LINE_ITEM_PARAMS, param);
  if (item.price !== undefined) {
    // The emulator has no Prices API, so any price id is as unknown as it would be in an empty account.
    throw noSuchResource("price", item.price, { param: `${param}[price]`, statusCode: 400 });
  }
  const priceData = item.price_data;
  if (priceData === undefined) {
    throw invalidRequest(`You must specify either \`price\` or \`price_data\` in ${param}.`, { param });
  }
  const p = `${param}[price_data]`;
  if (!isHash(priceData)) throw invalidRequest("Invalid hash", { param: p });
  rejectUnknownParams(priceData, PRICE_DATA_PARAMS, p);
  if (priceData.currency === undefined) {
    throw invalidRequest(`Missing required param: ${p}[currency].`, { param: `${p}[currency]` });
  }
  if (!/^[a-zA-Z]{3}$/.test(priceData.currency as string)) {
    throw invalidRequest(`Invalid currency: ${priceData.currency}`, { param: `${p}[currency]` });
  }
  if (priceData.recurring !== undefined) {
    throw invalidRequest(
      "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
      { param: `${p}[recurring]` },
    );
  }
  if (priceData.product !== undefined) {
    throw noSuchResource("product", priceData.product, { param: `${p}[product]`, statusCode: 400 });
  }
  const productData = priceData.product_data;
  if (productData === undefined) {
    throw invalidRequest(`Missing required param: ${p}[product_data].`, { param: `${p}[product_data]` });
  }
  rejectUnknownParams(productData as Params, PRODUCT_DATA_PARAMS, `${p}[product_data]`);
  const name = requireString((productData as Params).name, `${p}[product_data][name]`, { maxLength: 250 });
  let unitAmount: number;
  if (priceData.unit_amount !== undefined) {
    unitAmount = parseInteger(priceData.unit_amount, `${p}[unit_amount]`, { min: 0 });
  } else if (priceData.unit_amount_decimal !== undefined) {
    unitAmount = Number(priceData.unit_amount_decimal);
    if (!Number.isFinite(unitAmount) || unitAmount < 0) {
      throw invalidRequest(`Invalid decimal: ${priceData.unit_amount_decimal}`, {
        param: `${p}[unit_amount_decimal]`,
      });
    }
  } else {
    throw invalidRequest(`Missing required param: ${p}[unit_amount].`, { param: `${p}[unit_amount]` });
  }
  if (item.quantity === undefined) {
    throw invalidRequest(`Quantity is required. Add \`quantity\` to \`${param}\``, {
      param: `${param}[quantity]`,
    });
  }
  const quantity = parseInteger(item.quantity, `${param}[quantity]`, { min: 1 });
  const currency = (priceData.currency as string).toLowerCase();
  const amount = Math.round(unitAmount * quantity);
  return {
    id: newId("li"),
    object: "item",
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency,
    description: name,
    metadata: parseMetadata(item.metadata, `${param}[metadata]`),
    price: {
      id: newId("price"),
      object: "price",
      active: false,
      billing_scheme: "per_unit",
      created: nowSeconds(),
      currency,
      livemode: false,
      lookup_key: null,
      metadata: {},
      nickname: null,
      product: newId("prod", 14),
      recurring: null,
      tax_behavior: (priceData.tax_behavior ?? "unspecified") as string,
      type: "one_time",
      unit_amount: Number.isInteger(unitAmount) ? unitAmount : null,
      unit_amount_decimal: String(unitAmount),
    },
    quantity,
  };
}

/** The session as the API returns it, with the requested `expand[]` fields inlined. */
export function sessionView(record: SessionRecord, expand = new Set<string>()): CheckoutSession {
  const view = structuredClone(record.session);
  if (expand.has("line_items")) {
    view.line_items = {
      object: "list",
      data: structuredClone(record.lineItems),
      has_more: false,
      url: `/v1/checkout/sessions/${view.id}/line_items`,
    };
  }
  if (expand.has("payment_intent") && view.payment_intent) view.payment_intent = paymentIntentView(record);
  return view;
}

/** Only for a completed session: completeSession sets its payment intent's id and creation time. */
function paymentIntentView(record: SessionRecord): PaymentIntentView {
  const { session } = record;
  const succeeded = session.payment_status === "paid";
  return {
    id: session.payment_intent as string,
    object: "payment_intent",
    amount: session.amount_total,
    amount_received: succeeded ? session.amount_total : 0,
    created: record.paymentIntentCreated as number,
    currency: session.currency,
    customer: session.customer,
    livemode: false,
    metadata: structuredClone(record.paymentIntentMetadata),
    payment_method_types: session.payment_method_types,
    status: succeeded ? "succeeded" : record.asyncPending ? "processing" : "requires_payment_method",
  };
}

export function retrieveSession(records: Map<string, SessionRecord>, id: string, query: Params) {
  rejectUnknownParams(query, new Set(["expand"]));
  const expand = parseExpand(query.expand, EXPANDABLE);
  const record = records.get(id);
  if (!record) throw noSuchResource("checkout.session", id, { param: "session" });
  return { record, expand };
}

export function listSessions(records: Map<string, SessionRecord>, query: Params) {
  rejectUnknownParams(query, LIST_PARAMS);
  const listExpand = parseExpand(query.expand, new Set([...EXPANDABLE].map((field) => `data.${field}`)));
  const expand = new Set([...listExpand].map((field) => field.slice("data.".length)));
  const inRange = parseRange(query.created, "created");
  if (query.status !== undefined && !STATUSES.has(query.status as string)) {
    throw invalidRequest(`Invalid status: must be one of open, complete, or expired`, { param: "status" });
  }
  const email = (query.customer_details as Params | undefined)?.email;
  const matches = [...records.values()]
    .filter(
      ({ session }) =>
        inRange(session.created) &&
        (query.status === undefined || session.status === query.status) &&
        (query.customer === undefined || session.customer === query.customer) &&
        (query.payment_intent === undefined || session.payment_intent === query.payment_intent) &&
        (email === undefined || session.customer_details?.email === email) &&
        query.payment_link === undefined &&
        query.subscription === undefined,
    )
    .sort((a, b) => b.session.created - a.session.created || b.seq - a.seq)
    .map((record) => sessionView(record, expand));
  return paginate(matches, query, "/v1/checkout/sessions", "checkout.session");
}

export function listLineItems(record: SessionRecord, query: Params) {
  rejectUnknownParams(query, new Set(PAGINATION_PARAMS));
  const url = `/v1/checkout/sessions/${record.session.id}/line_items`;
  return paginate(structuredClone(record.lineItems), query, url, "item");
}

/** Moves an open session to `complete`, as the customer submitting the Checkout form does. */
export function completeSession(record: SessionRecord, paymentStatus: "paid" | "unpaid") {
  const { session } = record;
  session.status = "complete";
  session.payment_status = paymentStatus;
  session.url = null;
  session.payment_intent = newId("pi");
  record.paymentIntentCreated = nowSeconds();
  session.customer_details = {
    address: null,
    email: session.customer_email ?? "customer@example.com",
    name: "Test Customer",
    phone: null,
    tax_exempt: "none",
    tax_ids: [],
  };
}

export function expireSession(record: SessionRecord) {
  record.session.status = "expired";
  record.session.url = null;
}

export function isPastExpiry(record: SessionRecord) {
  return record.session.status === "open" && nowSeconds() >= record.session.expires_at;
}

/** Where Checkout sends the browser afterwards, with `{CHECKOUT_SESSION_ID}` filled in as Stripe does. */
export function successRedirect(record: SessionRecord) {
  const url = record.session.success_url;
  return url ? url.replaceAll("{CHECKOUT_SESSION_ID}", record.session.id) : null;
}
