import Stripe from "stripe";
import type { Config } from "../config/index.ts";
import { ApiError } from "../errors/api-error.ts";

/** The key the local Stripe emulator accepts; a development default, refused in production. */
export const EMULATOR_SECRET_KEY = "sk_test_tollgate_local";
/** Where `npm run dev` starts the emulator when STRIPE_API_BASE does not say otherwise. */
export const DEFAULT_EMULATOR_URL = "http://127.0.0.1:12111";

/** How long one Stripe call may take; the SDK retries once, with the same Idempotency-Key. */
const TIMEOUT_MS = 15_000;
const MAX_NETWORK_RETRIES = 1;

export type StripeTarget = { secretKey: string; apiBase?: string };

/**
 * Which Stripe to talk to: STRIPE_API_BASE (the emulator) when set; else Stripe itself with
 * STRIPE_SECRET_KEY; outside production with no key, the local emulator with its test key. In
 * production without a key there is nothing safe to do (the config rules already fail /api/ready).
 */
export function stripeTarget(config: Config): StripeTarget | undefined {
  const secretKey =
    config.STRIPE_SECRET_KEY ?? (config.ENVIRONMENT === "production" ? undefined : EMULATOR_SECRET_KEY);
  if (!secretKey) return undefined;
  if (config.STRIPE_API_BASE) return { secretKey, apiBase: config.STRIPE_API_BASE };
  if (!config.STRIPE_SECRET_KEY) return { secretKey, apiBase: DEFAULT_EMULATOR_URL };
  return { secretKey };
}

/**
 * A Stripe client for one request or cron run (never at module scope): the fetch HTTP client, since
 * Workers have no Node http module.
 */
export function createStripe(config: Config): Stripe {
  const target = stripeTarget(config);
  if (!target) throw new ApiError("service_unavailable", "Payments are not configured.");
  const options: Stripe.StripeConfig = {
    httpClient: Stripe.createFetchHttpClient(),
    timeout: TIMEOUT_MS,
    maxNetworkRetries: MAX_NETWORK_RETRIES,
    appInfo: { name: "Tollgate" },
  };
  if (target.apiBase) {
    const url = new URL(target.apiBase);
    options.host = url.hostname;
    options.protocol = url.protocol === "https:" ? "https" : "http";
    options.port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  }
  return new Stripe(target.secretKey, options);
}

/** Workers have no Node crypto module: signatures are checked with SubtleCrypto. */
export const webhookCrypto = Stripe.createSubtleCryptoProvider();

/**
 * A Stripe API failure as Tollgate's error contract: a reused key is the client's mistake (422, 409
 * while the first request still runs); anything else is Stripe's or the configuration's, so 502.
 * Only the type and code are kept: Stripe's messages can quote request parameters.
 */
export function stripeFailure(error: unknown): ApiError {
  const e = error as { type?: string; rawType?: string; code?: string; statusCode?: number };
  if (e?.type === "StripeIdempotencyError" || e?.rawType === "idempotency_error") {
    return e.statusCode === 409
      ? new ApiError(
          "idempotency_request_in_progress",
          "A checkout with this Idempotency-Key is still being created.",
        )
      : new ApiError("idempotency_key_reused", "This Idempotency-Key was used for a different checkout.");
  }
  const what = [e?.type, e?.code, e?.statusCode].filter((x) => x !== undefined).join(" ");
  return new ApiError("upstream_error", "The payment provider did not answer as expected; try again.", {
    cause: new Error(`stripe request failed${what ? ` (${what})` : ""}`),
  });
}
