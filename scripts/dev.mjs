#!/usr/bin/env node
// npm run dev: the whole local stack in one command.
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseCli } from "./lib/args.mjs";
import { runMigrations } from "./lib/migrate.ts";
import { redactUrl } from "./lib/migrations.ts";
import { startEmbeddedPostgres } from "./local-neon/embedded.ts";
import { startLocalNeon } from "./local-neon/server.ts";
import { startStripeEmulator } from "./stripe-emulator/server.ts";

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

const DEV_DEFAULTS = {
  ADMIN_TOKEN: "dev-admin-token-change-me",
  BETTER_AUTH_SECRET: "dev-better-auth-secret-change-me-0123456789",
  STRIPE_WEBHOOK_SECRET: "whsec_tollgate_local_dev",
};

/** .dev.vars is dotenv-style; only simple KEY=value lines are needed here. */
function readDevVars() {
  if (!existsSync(".dev.vars")) return {};
  const vars = {};
  for (const line of readFileSync(".dev.vars", "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match && !line.trimStart().startsWith("#")) vars[match[1]] = match[2].replace(/^["']|["']$/g, "");
  }
  return vars;
}

const settings = { ...DEV_DEFAULTS, ...readDevVars(), ...pickSet(process.env) };
function pickSet(env) {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
}

const stops = [];
let stopping = false;
async function stopAll(code = 0) {
  if (stopping) return;
  stopping = true;
  console.log("\ndev: stopping");
  for (const stop of stops.reverse()) await stop().catch(() => {});
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

const step = (message) => console.log(`dev: ${message}`);

try {
  let databaseUrl = settings.DATABASE_URL;
  if (databaseUrl) {
    step(`database ${redactUrl(databaseUrl)}`);
  } else {
    step("no DATABASE_URL: starting embedded PGlite (data in .data/pglite)");
    const embedded = await startEmbeddedPostgres({ dataDir: ".data/pglite" });
    stops.push(() => embedded.close());
    databaseUrl = embedded.connectionString;
  }

  step("migrating");
  const migrated = await runMigrations(databaseUrl, { createDatabase: true, log: (l) => step(l) });
  step(migrated.applied.length ? `applied ${migrated.applied.join(", ")}` : "schema up to date");

  const neon = await startLocalNeon({ port: Number(values["neon-port"]) });
  stops.push(() => neon.close());
  step(`local Neon at ${neon.url}`);

  const port = Number(values.port);
  const vars = {
    DATABASE_URL: databaseUrl,
    LOCAL_NEON_URL: neon.url,
    ADMIN_TOKEN: settings.ADMIN_TOKEN,
    BETTER_AUTH_SECRET: settings.BETTER_AUTH_SECRET,
    STRIPE_WEBHOOK_SECRET: settings.STRIPE_WEBHOOK_SECRET,
  };
  for (const optional of ["ADMIN_TOKEN_NEXT", "SENTRY_DSN", "MONITOR_ALERT_WEBHOOK_URL", "CREDIT_PACKS"]) {
    if (settings[optional]) vars[optional] = settings[optional];
  }

  if (settings.STRIPE_SECRET_KEY) {
    vars.STRIPE_SECRET_KEY = settings.STRIPE_SECRET_KEY;
    step("STRIPE_SECRET_KEY set: using Stripe itself, not the emulator");
  } else {
    const stripe = await startStripeEmulator({
      port: Number(values["stripe-port"]),
      forwardTo: `http://127.0.0.1:${port}/api/billing/stripe/webhook`,
      webhookSecret: settings.STRIPE_WEBHOOK_SECRET,
    });
    stops.push(() => stripe.close());
    vars.STRIPE_API_BASE = stripe.url;
    step(`Stripe emulator at ${stripe.url} (checkout pages, signed webhooks to the Worker)`);
  }

  // Values go to wrangler through a private env file, never the command line, where `ps` would show them.
  mkdirSync(".data", { recursive: true });
  const envFile = ".data/dev.vars";
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
      .join("\n"),
    {
      mode: 0o600,
    },
  );
  chmodSync(envFile, 0o600);
  const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
  const wranglerBin = join(dirname(wranglerPackage), "bin", "wrangler.js");
  const args = [wranglerBin, "dev", "--port", String(port), "--ip", "127.0.0.1", "--test-scheduled"];
  args.push("--persist-to", ".data/wrangler", "--env-file", envFile);
  step(`starting wrangler dev on http://127.0.0.1:${port}`);
  // Its own process group, so stopping reaches workerd and every helper wrangler starts.
  const wrangler = spawn(process.execPath, args, {
    stdio: "inherit",
    detached: true,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  stops.push(
    () =>
      new Promise((resolve) => {
        if (wrangler.exitCode !== null) return resolve(undefined);
        wrangler.once("exit", resolve);
        const signal = (name) => {
          try {
            process.kill(-wrangler.pid, name);
          } catch {
            // already gone
          }
        };
        signal("SIGINT");
        setTimeout(() => signal("SIGKILL"), 5000).unref();
      }),
  );
  wrangler.on("exit", (code) => {
    if (!stopping) {
      console.error(`dev: wrangler exited with ${code}`);
      stopAll(code ?? 1);
    }
  });
  waitForReady(`http://127.0.0.1:${port}/api/ready`).then((ok) =>
    step(
      ok
        ? `ready: http://127.0.0.1:${port} (docs at /api/docs)`
        : "not ready after 60 s: see the output above",
    ),
  );
} catch (error) {
  console.error(`dev: ${error instanceof Error ? error.message : error}`);
  await stopAll(1);
}

async function waitForReady(url) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(url);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return false;
}
