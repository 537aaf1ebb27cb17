#!/usr/bin/env node
// npm run stripe:webhook: the Stripe webhook endpoint of one Tollgate deployment, with only the events
// fulfilment needs (MVP_GO_LIVE_CHECKLIST "Stripe").
import Stripe from "stripe";
import { parseCli } from "./lib/args.mjs";

/** Keep in step with FULFILMENT_EVENTS in src/billing/webhook.ts (test/node/stripe-webhook.test.ts checks). */
const REQUIRED_EVENTS = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
];
const WEBHOOK_PATH = "/api/billing/stripe/webhook";
const EMULATOR_KEY = "sk_test_tollgate_local";

const USAGE = `
Usage: npm run stripe:webhook -- --url <base> [--env ENV] [--verify] [--dry-run] [--api-base URL]

Makes sure Stripe has exactly one webhook endpoint for this deployment, at <base>${WEBHOOK_PATH},
enabled and subscribed to exactly these events:
  ${REQUIRED_EVENTS.join("\n  ")}

Without an endpoint at that URL it creates one and prints its signing secret, once (Stripe never shows
it again). With one, it updates its events (and enables it) when they differ.

Options:
  --url BASE       the deployment's public base URL, e.g. https://api.tollgate.example
  --env ENV        local, staging or production: named in the follow-up command; staging and
                   production require an https URL and refuse the emulator
  --verify         change nothing; exit 1 when the endpoint is missing, disabled, or its events differ
                   (the difference is printed: + extra, - missing)
  --dry-run        say what would change; change nothing
  --api-base URL   a Stripe emulator (default: STRIPE_API_BASE); with no STRIPE_SECRET_KEY the
                   emulator's test key is used
  -h, --help       show this help

Reads STRIPE_SECRET_KEY (and STRIPE_API_BASE) from the environment. Exit codes: 0 ok, 1 the endpoint
does not match (--verify), 2 usage or Stripe error.
`;

const say = (line = "") => process.stdout.write(`${line}\n`);
const fail = (message, code = 2) => {
  process.stderr.write(`stripe:webhook: ${message}\n`);
  process.exit(code);
};

const { values } = parseCli({
  usage: USAGE,
  options: {
    url: { type: "string" },
    env: { type: "string" },
    verify: { type: "boolean" },
    "dry-run": { type: "boolean" },
    "api-base": { type: "string" },
  },
});

const environment = values.env ?? "local";
if (!["local", "staging", "production"].includes(environment))
  fail("--env must be local, staging or production");
if (!values.url) fail(`--url is required\n${USAGE}`);
const base = URL.parse(values.url);
if (!base || !["http:", "https:"].includes(base.protocol) || base.search || base.hash) {
  fail(`--url must be an http(s) base URL, got ${values.url}`);
}
const endpointUrl = `${base.origin}${base.pathname.replace(/\/+$/, "")}${WEBHOOK_PATH}`;
const apiBase = values["api-base"] ?? process.env.STRIPE_API_BASE ?? undefined;
const deployed = environment !== "local";
if (deployed && base.protocol !== "https:") fail(`${environment} needs an https --url`);
if (deployed && apiBase) fail(`${environment} talks to Stripe itself: drop --api-base / STRIPE_API_BASE`);

const secretKey = process.env.STRIPE_SECRET_KEY || (apiBase ? EMULATOR_KEY : undefined);
if (!secretKey) fail("set STRIPE_SECRET_KEY (or --api-base for the local emulator)");

/** @type {import("stripe").StripeConfig} */
const options = { maxNetworkRetries: 2, appInfo: { name: "Tollgate stripe:webhook" } };
if (apiBase) {
  const api = new URL(apiBase);
  Object.assign(options, {
    host: api.hostname,
    port: Number(api.port || (api.protocol === "https:" ? 443 : 80)),
    protocol: api.protocol === "https:" ? "https" : "http",
  });
}
const stripe = new Stripe(secretKey, options);

/** What is wrong with an endpoint's subscription: events it lacks, events it should not get. */
function eventDifference(enabled) {
  const missing = REQUIRED_EVENTS.filter((e) => !enabled.includes(e));
  const extra = enabled.filter((e) => !REQUIRED_EVENTS.includes(e));
  return { missing, extra };
}

function printDifference({ missing, extra }, status) {
  for (const e of extra) say(`  + ${e}   (extra: Tollgate does not handle it)`);
  for (const e of missing) say(`  - ${e}   (missing: fulfilment needs it)`);
  if (status !== "enabled") say(`  status is ${status}: Stripe delivers nothing to it`);
}

async function main() {
  const all = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) all.push(endpoint);
  const matching = all.filter((e) => e.url === endpointUrl);
  if (matching.length > 1) {
    say(`warning: ${matching.length} endpoints at ${endpointUrl} (${matching.map((e) => e.id).join(", ")});`);
    say("         each one delivers every event; delete all but one in the Stripe Dashboard.");
  }
  const existing = matching[0];

  if (!existing) {
    if (values.verify) {
      say(`no webhook endpoint at ${endpointUrl}`);
      say("create it: npm run stripe:webhook -- --url <base> --env <env>");
      process.exit(1);
    }
    if (values["dry-run"]) {
      say(`would create a webhook endpoint at ${endpointUrl} for: ${REQUIRED_EVENTS.join(", ")}`);
      return;
    }
    const created = await stripe.webhookEndpoints.create({
      url: endpointUrl,
      enabled_events: REQUIRED_EVENTS,
      description: `Tollgate ${environment}: Checkout fulfilment`,
    });
    say(`created webhook endpoint ${created.id} at ${endpointUrl}`);
    say(`events: ${REQUIRED_EVENTS.join(", ")}`);
    say();
    say("Signing secret (shown this once; Stripe will not show it again):");
    say(`  ${created.secret}`);
    say();
    say("Put it where the Worker reads it (the value goes on stdin, never on the command line):");
    say(
      `  npm run secrets:rotate -- STRIPE_WEBHOOK_SECRET --env ${deployed ? environment : "<staging|production>"}`,
    );
    say("During a rotation give both, new first (whsec_new,whsec_old), until Stripe signs with the new one.");
    return;
  }

  const difference = eventDifference(existing.enabled_events);
  const ok =
    difference.missing.length === 0 && difference.extra.length === 0 && existing.status === "enabled";
  if (ok) {
    say(`ok: ${existing.id} at ${endpointUrl} is enabled and gets exactly: ${REQUIRED_EVENTS.join(", ")}`);
    return;
  }
  say(`${existing.id} at ${endpointUrl} differs from what Tollgate needs:`);
  printDifference(difference, existing.status);
  if (values.verify) process.exit(1);
  if (values["dry-run"]) {
    say("would update it to exactly the required events, enabled");
    return;
  }
  await stripe.webhookEndpoints.update(existing.id, { enabled_events: REQUIRED_EVENTS, disabled: false });
  say(
    `updated ${existing.id}: enabled, events ${REQUIRED_EVENTS.join(", ")} (its signing secret is unchanged)`,
  );
}

main().catch((error) => {
  // Stripe's error type and message; never the key.
  fail(`${error?.type ?? "error"}: ${error?.message ?? error}`);
});
