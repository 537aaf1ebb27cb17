#!/usr/bin/env node
import { DEV_DEFAULTS } from "../../src/config/rules.ts";
import { parseCli } from "../lib/args.ts";
import { startStripeEmulator } from "./server.ts";

const USAGE = `Usage: node scripts/stripe-emulator/cli.ts [options]

Runs the local Stripe emulator (Checkout Sessions, webhook endpoints, events, hosted checkout page).

Options:
  --port <n>              Port to listen on (default 12111; 0 picks a free one)
  --host <addr>           Address to bind (default 127.0.0.1)
  --forward-to <url>      POST every event here, like \`stripe listen --forward-to\`
  --webhook-secret <s>    Secret that signs forwarded events (default ${DEV_DEFAULTS.STRIPE_WEBHOOK_SECRET})
  --quiet                 Do not log requests and deliveries
  -h, --help              Show this help`;

const values = parseCli({
  usage: USAGE,
  options: {
    port: { type: "string", default: "12111" },
    host: { type: "string", default: "127.0.0.1" },
    "forward-to": { type: "string" },
    "webhook-secret": { type: "string", default: DEV_DEFAULTS.STRIPE_WEBHOOK_SECRET },
    quiet: { type: "boolean", default: false },
  },
}).values as { port: string; host: string; "forward-to"?: string; "webhook-secret": string; quiet: boolean };

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`Invalid --port: ${values.port}`);
  process.exit(2);
}

const emulator = await startStripeEmulator({
  port,
  host: values.host,
  forwardTo: values["forward-to"],
  webhookSecret: values["webhook-secret"],
  log: !values.quiet,
});

console.log(`Stripe emulator listening on ${emulator.url}`);
console.log(
  `  SDK: new Stripe("sk_test_...", { host: "${new URL(emulator.url).hostname}", port: ${emulator.port}, protocol: "http", httpClient: Stripe.createFetchHttpClient() })`,
);
if (values["forward-to"]) {
  console.log(`  Forwarding events to ${values["forward-to"]} signed with ${values["webhook-secret"]}`);
}

let stopping = false;
async function stop(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  console.log(`Received ${signal}, stopping Stripe emulator`);
  await emulator.close();
  process.exit(0);
}
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
