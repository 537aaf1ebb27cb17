import type Stripe from "stripe";
import { z } from "zod";
import { type CreditPack, findPack } from "../config/credit-packs.ts";
import type { Config } from "../config/index.ts";
import { effectiveOrigins, normalizeOrigin, originFlags } from "../config/origins.ts";
import { sqlQuery } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { ApiError } from "../errors/api-error.ts";
import { sha256Hex } from "../lib/encoding.ts";
import { stripeFailure } from "./stripe.ts";

export type CheckoutInput = {
  accountId: string;
  /** The client's Idempotency-Key, already checked for shape. */
  idempotencyKey: string;
  packId: string;
  returnOrigin?: string;
  returnPath?: string;
};

export type CheckoutResult = {
  id: string;
  url: string;
  pack: CreditPack;
  expiresAt: Date;
  /** Stripe answered with the session an earlier request with the same key created. */
  replayed: boolean;
};

const DEFAULT_RETURN_PATH = "/";

/**
 * Stripe's Idempotency-Key for a checkout: SHA-256 of (account, client key). Scoping by account means
 * two customers who happen to pick the same key never share a session; hashing keeps the client's key
 * and the account id out of Stripe's logs.
 */
export async function stripeIdempotencyKey(accountId: string, clientKey: string): Promise<string> {
  return `tollgate-checkout-${await sha256Hex(`${accountId}:${clientKey}`)}`;
}

/** A same-origin absolute path: no scheme, no `//host`, no backslash, fragment or control character. */
export function isSafeReturnPath(path: string): boolean {
  if (!path.startsWith("/") || path.startsWith("//") || path.startsWith("/\\")) return false;
  for (const ch of path) {
    const code = ch.charCodeAt(0);
    if (code < 0x21 || code > 0x7e || ch === "\\" || ch === "#") return false;
  }
  return true;
}

function invalidReturn(path: "return_origin" | "return_path", message: string): ApiError {
  return new ApiError("validation_failed", message, { errors: [{ path, message }] });
}

/**
 * Success and cancel URLs on an origin of PUBLIC_ORIGIN_ALLOWLIST (the client may pick one of them,
 * else the first) and a path the client may choose. Nothing else of the client's input reaches them.
 */
export function checkoutReturnUrls(config: Config, returnOrigin?: string, returnPath?: string) {
  const allowed = [...effectiveOrigins(config.PUBLIC_ORIGIN_ALLOWLIST, originFlags(config))];
  const origin = returnOrigin === undefined ? allowed[0] : normalizeOrigin(returnOrigin);
  if (returnOrigin !== undefined && (!origin || !allowed.includes(origin))) {
    throw invalidReturn("return_origin", "return_origin is not one of Tollgate's public origins.");
  }
  if (!origin)
    throw new ApiError("service_unavailable", "No return origin is configured (PUBLIC_ORIGIN_ALLOWLIST).");
  const path = returnPath ?? DEFAULT_RETURN_PATH;
  if (!isSafeReturnPath(path))
    throw invalidReturn("return_path", "return_path must be a path starting with one /.");
  const base = new URL(path, origin);
  // Belt and braces: whatever the path held, the URL must still be on the chosen origin.
  if (base.origin !== origin)
    throw invalidReturn("return_path", "return_path must stay on the return origin.");
  const join = base.search ? "&" : "?";
  return {
    // Stripe fills in {CHECKOUT_SESSION_ID}; it must stay unencoded.
    successUrl: `${base.href}${join}checkout=success&session_id={CHECKOUT_SESSION_ID}`,
    cancelUrl: `${base.href}${join}checkout=cancel`,
  };
}

function lineItem(pack: CreditPack): Stripe.Checkout.SessionCreateParams.LineItem {
  if (pack.stripe_price_id) return { price: pack.stripe_price_id, quantity: 1 };
  const name = `${pack.name ?? pack.id} (${pack.credits.toLocaleString("en-US")} credits)`;
  return {
    quantity: 1,
    price_data: { currency: pack.currency, unit_amount: pack.amount, product_data: { name } },
  };
}

/**
 * Creates (or, for a replayed Idempotency-Key, finds again) the Stripe Checkout Session for a pack and
 * records it. Amounts and credits come from the pack table only; the metadata names the account, the
 * pack and the credits so fulfilment can check a paid session against what was sold.
 */
export async function createCheckout(
  services: { config: Config; database: SqlClient; stripe: Stripe },
  input: CheckoutInput,
): Promise<CheckoutResult> {
  const { config, database, stripe } = services;
  const pack = findPack(config.CREDIT_PACKS, input.packId);
  if (!pack) {
    const message = `Unknown pack; GET /api/billing/packs lists them.`;
    throw new ApiError("validation_failed", message, { errors: [{ path: "pack_id", message }] });
  }
  const { successUrl, cancelUrl } = checkoutReturnUrls(config, input.returnOrigin, input.returnPath);
  const idempotencyKey = await stripeIdempotencyKey(input.accountId, input.idempotencyKey);
  const metadata = { account_id: input.accountId, pack_id: pack.id, credits: String(pack.credits) };

  let session: Stripe.Response<Stripe.Checkout.Session>;
  try {
    session = await stripe.checkout.sessions.create(
      {
        mode: "payment",
        line_items: [lineItem(pack)],
        client_reference_id: input.accountId,
        metadata,
        payment_intent_data: { metadata },
        success_url: successUrl,
        cancel_url: cancelUrl,
      },
      { idempotencyKey },
    );
  } catch (error) {
    throw stripeFailure(error);
  }
  if (!session.url) throw stripeFailure(new Error("checkout session without a url"));

  // One statement. A replay finds the row already there; if this write fails the session is still in
  // Stripe, and the client's retry with the same key records it (reconciliation credits it regardless).
  try {
    await sqlQuery(
      database,
      "record checkout session",
      `insert into checkout_sessions (id, account_id, pack_id, credits, amount, currency, idempotency_key)
       values ($1, $2::uuid, $3, $4::bigint, $5::bigint, $6, $7) on conflict (id) do nothing`,
      [session.id, input.accountId, pack.id, pack.credits, pack.amount, pack.currency, idempotencyKey],
      z.unknown(),
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ApiError(
      "service_unavailable",
      "Could not record the checkout; retry with the same Idempotency-Key.",
      {
        cause: new Error(`checkout record failed${code ? ` (${code})` : ""}`),
      },
    );
  }

  return {
    id: session.id,
    url: session.url,
    pack,
    expiresAt: new Date(session.expires_at * 1000),
    replayed: replayedByStripe(session),
  };
}

/** Stripe marks an answer replayed for an Idempotency-Key with `Idempotent-Replayed: true`. */
function replayedByStripe(session: Stripe.Response<unknown>): boolean {
  // The fetch HTTP client exposes the fetch Response (a Headers object); Node's, a plain object.
  const headers: unknown = session.lastResponse?.headers;
  const value =
    headers instanceof Headers
      ? headers.get("idempotent-replayed")
      : (headers as Record<string, string> | undefined)?.["idempotent-replayed"];
  return value === "true";
}
