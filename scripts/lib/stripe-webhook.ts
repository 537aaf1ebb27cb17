// npm run stripe:webhook as a function (go-live verifies with it): the Stripe webhook endpoint of one
// Tollgate deployment, subscribed to exactly the events fulfilment handles.
import Stripe from "stripe";
import { EMULATOR_SECRET_KEY } from "../../src/billing/stripe.ts";
import { FULFILMENT_EVENTS } from "../../src/billing/webhook.ts";

export const WEBHOOK_PATH = "/api/billing/stripe/webhook";

export type Environment = "local" | "staging" | "production";

export type StripeWebhookOptions = {
  /** The deployment's public base URL. */
  url: string;
  environment: Environment;
  /** Change nothing; exit 1 when the endpoint is missing, disabled, or its events differ. */
  verify?: boolean;
  /** Say what would change; change nothing. */
  dryRun?: boolean;
  /** A Stripe emulator; with no secret key the emulator's test key is used. */
  apiBase?: string;
  /** STRIPE_SECRET_KEY (never printed). */
  secretKey?: string;
  /** What it found and did, line by line; nothing is printed without it. */
  log?: (line: string) => void;
};

export type StripeWebhookResult = {
  /** 0 ok, 1 the endpoint does not match (verify), 2 a refused setting or a Stripe error. */
  exitCode: 0 | 1 | 2;
  /** Why, for exit code 2. */
  failure: string | null;
};

/** What is wrong with an endpoint's subscription: events it lacks, events it should not get. */
function eventDifference(enabled: readonly string[]) {
  const required: readonly string[] = FULFILMENT_EVENTS;
  const missing = required.filter((e) => !enabled.includes(e));
  const extra = enabled.filter((e) => !required.includes(e));
  return { missing, extra };
}

export async function runStripeWebhook(options: StripeWebhookOptions): Promise<StripeWebhookResult> {
  const { environment, verify = false, dryRun = false, apiBase } = options;
  const say = (line = "") => options.log?.(line);
  const refuse = (failure: string): StripeWebhookResult => ({ exitCode: 2, failure });

  const base = URL.parse(options.url);
  if (!base || !["http:", "https:"].includes(base.protocol) || base.search || base.hash)
    return refuse(`--url must be an http(s) base URL, got ${options.url}`);
  const endpointUrl = `${base.origin}${base.pathname.replace(/\/+$/, "")}${WEBHOOK_PATH}`;
  const deployed = environment !== "local";
  if (deployed && base.protocol !== "https:") return refuse(`${environment} needs an https --url`);
  if (deployed && apiBase)
    return refuse(`${environment} talks to Stripe itself: drop --api-base / STRIPE_API_BASE`);
  const secretKey = options.secretKey || (apiBase ? EMULATOR_SECRET_KEY : undefined);
  if (!secretKey) return refuse("set STRIPE_SECRET_KEY (or --api-base for the local emulator)");

  const config: Stripe.StripeConfig = { maxNetworkRetries: 2, appInfo: { name: "Tollgate stripe:webhook" } };
  if (apiBase) {
    const api = new URL(apiBase);
    config.host = api.hostname;
    config.port = Number(api.port || (api.protocol === "https:" ? 443 : 80));
    config.protocol = api.protocol === "https:" ? "https" : "http";
  }
  const stripe = new Stripe(secretKey, config);
  const events = [...FULFILMENT_EVENTS];

  try {
    const all: Stripe.WebhookEndpoint[] = [];
    for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) all.push(endpoint);
    const matching = all.filter((e) => e.url === endpointUrl);
    if (matching.length > 1) {
      say(
        `warning: ${matching.length} endpoints at ${endpointUrl} (${matching.map((e) => e.id).join(", ")});`,
      );
      say("         each one delivers every event; delete all but one in the Stripe Dashboard.");
    }
    const existing = matching[0];

    if (!existing) {
      if (verify) {
        say(`no webhook endpoint at ${endpointUrl}`);
        say("create it: npm run stripe:webhook -- --url <base> --env <env>");
        return { exitCode: 1, failure: null };
      }
      if (dryRun) {
        say(`would create a webhook endpoint at ${endpointUrl} for: ${events.join(", ")}`);
        return { exitCode: 0, failure: null };
      }
      const created = await stripe.webhookEndpoints.create({
        url: endpointUrl,
        enabled_events: events,
        description: `Tollgate ${environment}: Checkout fulfilment`,
      });
      say(`created webhook endpoint ${created.id} at ${endpointUrl}`);
      say(`events: ${events.join(", ")}`);
      say();
      say("Signing secret (shown this once; Stripe will not show it again):");
      say(`  ${created.secret}`);
      say();
      say("Put it where the Worker reads it (the value goes on stdin, never on the command line):");
      say(
        `  npm run secrets:rotate -- STRIPE_WEBHOOK_SECRET --env ${deployed ? environment : "<staging|production>"}`,
      );
      say(
        "During a rotation give both, new first (whsec_new,whsec_old), until Stripe signs with the new one.",
      );
      return { exitCode: 0, failure: null };
    }

    const difference = eventDifference(existing.enabled_events);
    const ok =
      difference.missing.length === 0 && difference.extra.length === 0 && existing.status === "enabled";
    if (ok) {
      say(`ok: ${existing.id} at ${endpointUrl} is enabled and gets exactly: ${events.join(", ")}`);
      return { exitCode: 0, failure: null };
    }
    say(`${existing.id} at ${endpointUrl} differs from what Tollgate needs:`);
    for (const e of difference.extra) say(`  + ${e}   (extra: Tollgate does not handle it)`);
    for (const e of difference.missing) say(`  - ${e}   (missing: fulfilment needs it)`);
    if (existing.status !== "enabled") say(`  status is ${existing.status}: Stripe delivers nothing to it`);
    if (verify) return { exitCode: 1, failure: null };
    if (dryRun) {
      say("would update it to exactly the required events, enabled");
      return { exitCode: 0, failure: null };
    }
    await stripe.webhookEndpoints.update(existing.id, { enabled_events: events, disabled: false });
    say(`updated ${existing.id}: enabled, events ${events.join(", ")} (its signing secret is unchanged)`);
    return { exitCode: 0, failure: null };
  } catch (error) {
    // Stripe's error type and message; never the key.
    const e = error as { type?: string; message?: string } | undefined;
    return refuse(`${e?.type ?? "error"}: ${e?.message ?? error}`);
  }
}
