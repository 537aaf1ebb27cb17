#!/usr/bin/env node
// npm run dev: the whole local stack in one command.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEV_DEFAULTS } from "../src/config/rules.ts";
import { parseCli } from "./lib/args.ts";
import { redactUrl } from "./lib/migrations.ts";
import { closeAllStacks, type DatabaseOption, type LocalStack, ROOT, startLocalStack } from "./lib/stack.ts";

const { values } = parseCli({
  usage: `
Usage: npm run dev [-- --port 8787] [--neon-port 4444] [--stripe-port 12111]

Starts the local stack and keeps it running until Ctrl-C:
  1. Postgres: DATABASE_URL if set (created if missing), else embedded PGlite with data under .data/
  2. the local Neon server (Neon's HTTP /sql protocol and WebSocket proxy over that Postgres)
  3. migrations (npm run db:migrate)
  4. the local Stripe emulator, unless STRIPE_SECRET_KEY is set
  5. wrangler dev with queues, the dead-letter queue and cron (--test-scheduled)

Variables are read from the environment, then from .dev.vars; see README for the full table.
`,
  options: {
    port: { type: "string", default: "8787" },
    "neon-port": { type: "string", default: "4444" },
    "stripe-port": { type: "string", default: "12111" },
  },
});

const step = (message: string) => console.log(`dev: ${message}`);

function port(name: "port" | "neon-port" | "stripe-port"): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) {
    console.error(`dev: --${name} must be a port number, not ${values[name]}`);
    process.exit(2);
  }
  return value;
}
const ports = { worker: port("port"), neon: port("neon-port"), stripe: port("stripe-port") };

/** .dev.vars is dotenv-style; only simple KEY=value lines are needed here. */
function readDevVars(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match?.[1] && !line.trimStart().startsWith("#"))
      vars[match[1]] = (match[2] ?? "").replace(/^["']|["']$/g, "");
  }
  return vars;
}

const setInEnvironment = Object.fromEntries(
  Object.entries(process.env).filter((entry): entry is [string, string] => Boolean(entry[1])),
);
const settings: Record<string, string | undefined> = {
  ...DEV_DEFAULTS,
  ...readDevVars(join(ROOT, ".dev.vars")),
  ...setInEnvironment,
};

let stack: LocalStack | undefined;
let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\ndev: stopping");
  // Also a stack still starting: every child it started so far.
  await closeAllStacks();
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

try {
  let database: DatabaseOption;
  if (settings.DATABASE_URL) {
    step(`database ${redactUrl(settings.DATABASE_URL)}`);
    database = { kind: "url", url: settings.DATABASE_URL };
  } else {
    step("no DATABASE_URL: starting embedded PGlite (data in .data/pglite)");
    database = { kind: "pglite", dataDir: join(ROOT, ".data", "pglite") };
  }
  const vars: Record<string, string> = {};
  for (const optional of ["ADMIN_TOKEN_NEXT", "SENTRY_DSN", "MONITOR_ALERT_WEBHOOK_URL", "CREDIT_PACKS"]) {
    const value = settings[optional];
    if (value) vars[optional] = value;
  }
  stack = await startLocalStack({
    database,
    ports: { ...ports, inspector: null },
    stripe: settings.STRIPE_SECRET_KEY ? { secretKey: settings.STRIPE_SECRET_KEY } : true,
    adminToken: settings.ADMIN_TOKEN,
    betterAuthSecret: settings.BETTER_AUTH_SECRET,
    webhookSecret: settings.STRIPE_WEBHOOK_SECRET,
    allowOwnOrigin: false,
    vars,
    workDir: join(ROOT, ".data"),
    envFile: join(ROOT, ".data", "dev.vars"),
    persistTo: join(ROOT, ".data", "wrangler"),
    output: "inherit",
    waitFor: "none",
    log: step,
    onExit: (code) => {
      if (stopping) return;
      console.error(`dev: wrangler exited with ${code}`);
      stopAll(code ?? 1);
    },
  });
  const ready = await stack.ready(60_000);
  if (!stopping)
    step(ready ? `ready: ${stack.url} (docs at /api/docs)` : "not ready after 60 s: see the output above");
} catch (error) {
  console.error(`dev: ${error instanceof Error ? error.message : error}`);
  await stopAll(1);
}
