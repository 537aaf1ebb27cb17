#!/usr/bin/env node
// npm run stripe:webhook: the Stripe webhook endpoint of one Tollgate deployment, with only the events
// fulfilment needs (MVP_GO_LIVE_CHECKLIST "Stripe").
import { FULFILMENT_EVENTS } from "../src/billing/webhook.ts";
import { parseCli } from "./lib/args.ts";
import { type Environment, runStripeWebhook, WEBHOOK_PATH } from "./lib/stripe-webhook.ts";

const USAGE = `
Usage: npm run stripe:webhook -- --url <base> [--env ENV] [--verify] [--dry-run] [--api-base URL]

Makes sure Stripe has exactly one webhook endpoint for this deployment, at <base>${WEBHOOK_PATH},
enabled and subscribed to exactly these events:
  ${FULFILMENT_EVENTS.join("\n  ")}

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

function fail(message: string, code = 2): never {
  process.stderr.write(`stripe:webhook: ${message}\n`);
  process.exit(code);
}

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

const { exitCode, failure } = await runStripeWebhook({
  url: values.url,
  environment: environment as Environment,
  verify: values.verify,
  dryRun: values["dry-run"],
  apiBase: values["api-base"] ?? process.env.STRIPE_API_BASE ?? undefined,
  secretKey: process.env.STRIPE_SECRET_KEY || undefined,
  log: (line) => process.stdout.write(`${line}\n`),
});
if (failure) fail(failure, exitCode);
process.exitCode = exitCode;
