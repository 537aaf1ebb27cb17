// A whole local Tollgate stack on free ports, for tests and for trying the operations commands:
// a fresh migrated Postgres database, the local Neon server, the Stripe emulator and `wrangler dev`
// (the real bundle, local queues and cron). Like `npm run dev`, but private: its own database, state
// directory and env file, so several can run side by side and next to `npm run dev`.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startLocalNeon } from "../local-neon/server.ts";
import { startStripeEmulator } from "../stripe-emulator/server.ts";
import { runMigrations } from "./migrate.ts";

/**
 * @typedef {{
 *   url: string,
 *   port: number,
 *   databaseUrl: string,
 *   databaseName: string,
 *   adminToken: string,
 *   webhookSecret: string,
 *   stripeUrl: string | undefined,
 *   envFile: string,
 *   workDir: string,
 *   vars: Record<string, string>,
 *   stopDatabase(): Promise<void>,
 *   startDatabase(): Promise<void>,
 *   scheduled(cron?: string): Promise<number>,
 *   restart(vars?: Record<string, string>): Promise<void>,
 *   query(sql: string, params?: unknown[]): Promise<Record<string, any>[]>,
 *   close(): Promise<void>,
 * }} LocalStack
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Runs a Node script of this project in a child process (never blocking this one, which may host the
 * stack's servers) and collects its exit code and output.
 * @param {string} script path from the project root, e.g. "scripts/triage.mjs"
 * @param {string[]} args
 * @param {{ env?: Record<string, string | undefined>, timeoutMs?: number }} [options]
 * @returns {Promise<{ code: number | null, output: string }>}
 */
export function runScript(script, args, options = {}) {
  return new Promise((resolve) => {
    const env = { ...process.env, ...(options.env ?? {}) };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, env });
    let output = "";
    child.stdout.on("data", (c) => (output += c));
    child.stderr.on("data", (c) => (output += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The Postgres server stacks create their databases on: TEST_DATABASE_URL, else the machine's. */
export function defaultServerUrl() {
  return process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** @param {string} url @param {string} name */
function withDatabaseName(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** @param {string} url @param {string} sql @param {unknown[]} [params] */
async function query(url, sql, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * Starts the stack. Everything it started is stopped, and its database dropped, by `close()`, also when
 * starting fails half-way.
 * @param {{
 *   serverUrl?: string,
 *   adminToken?: string,
 *   webhookSecret?: string,
 *   vars?: Record<string, string>,
 *   stripe?: boolean,
 *   log?: (line: string) => void,
 *   startTimeoutMs?: number,
 * }} [options]
 * @returns {Promise<LocalStack>}
 */
export async function startLocalStack(options = {}) {
  const serverUrl = options.serverUrl ?? defaultServerUrl();
  const log = options.log ?? (() => {});
  const id = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const databaseName = `tollgate_stack_${id}`;
  const databaseUrl = withDatabaseName(serverUrl, databaseName);
  const adminToken = options.adminToken ?? `stack-admin-${randomBytes(24).toString("hex")}`;
  const webhookSecret = options.webhookSecret ?? `whsec_stack${randomBytes(16).toString("hex")}`;
  const workDir = mkdtempSync(join(tmpdir(), "tollgate-stack-"));
  /** @type {(() => Promise<void>)[]} */
  const stops = [];
  let closed = false;

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    log(`database ${databaseName}: create and migrate`);
    await runMigrations(databaseUrl, { createDatabase: true });
    stops.push(async () => {
      await query(serverUrl, `drop database if exists "${databaseName}" with (force)`);
    });

    let neon = await startLocalNeon({});
    const neonPort = neon.port;
    stops.push(() => neon.close());
    log(`local Neon at ${neon.url}`);

    const port = /** @type {number} */ (await freePort());
    const inspectorPort = /** @type {number} */ (await freePort());
    const url = `http://127.0.0.1:${port}`;
    // Its own origin is allowed too, so browser-like clients (and smoke's sign-up) can use the real URL.
    const origins = `${url},http://localhost:${port},http://localhost:8787,http://127.0.0.1:8787`;
    /** @type {Record<string, string>} */
    const vars = {
      DATABASE_URL: databaseUrl,
      LOCAL_NEON_URL: neon.url,
      ADMIN_TOKEN: adminToken,
      BETTER_AUTH_SECRET: `stack-better-auth-${randomBytes(24).toString("hex")}`,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      AUTH_ORIGIN_ALLOWLIST: origins,
      CORS_ALLOW_ORIGINS: origins,
      PUBLIC_ORIGIN_ALLOWLIST: origins,
    };

    /** @type {string | undefined} */
    let stripeUrl;
    if (options.stripe !== false) {
      const stripe = await startStripeEmulator({
        forwardTo: `${url}/api/billing/stripe/webhook`,
        webhookSecret,
      });
      stops.push(() => stripe.close());
      stripeUrl = stripe.url;
      vars.STRIPE_API_BASE = stripe.url;
      log(`Stripe emulator at ${stripe.url}`);
    }
    Object.assign(vars, options.vars ?? {});

    // Values reach wrangler through a private env file, never its command line.
    const envFile = join(workDir, "dev.vars");
    const writeEnvFile = () =>
      writeFileSync(
        envFile,
        `${Object.entries(vars)
          .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
          .join("\n")}\n`,
        { mode: 0o600 },
      );
    writeEnvFile();

    const wranglerPackage = createRequire(import.meta.url).resolve("wrangler/package.json");
    const wranglerBin = join(dirname(wranglerPackage), "bin", "wrangler.js");
    const args = [wranglerBin, "dev", "--port", String(port), "--ip", "127.0.0.1", "--test-scheduled"];
    args.push("--inspector-port", String(inspectorPort), "--persist-to", join(workDir, "state"));
    args.push("--env-file", envFile, "--log-level", "error");
    /** @type {import("node:child_process").ChildProcess | undefined} */
    let wrangler;
    stops.push(() => (wrangler ? stopProcessGroup(wrangler) : Promise.resolve()));
    const startWrangler = async () => {
      log(`wrangler dev on ${url}`);
      let output = "";
      // Its own process group, so stopping it reaches workerd too.
      const child = spawn(process.execPath, args, {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      });
      wrangler = child;
      const keep = (/** @type {Buffer} */ chunk) => {
        output = `${output}${chunk}`.slice(-4000);
      };
      child.stdout?.on("data", keep);
      child.stderr?.on("data", keep);

      const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
      for (;;) {
        try {
          if ((await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) })).ok) break;
        } catch {
          // not listening yet
        }
        if (child.exitCode !== null) throw new Error(`wrangler dev exited ${child.exitCode}: ${output}`);
        if (Date.now() > deadline) throw new Error(`wrangler dev did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    };
    await startWrangler();
    log("up");

    return {
      url,
      port,
      databaseUrl,
      databaseName,
      adminToken,
      webhookSecret,
      stripeUrl,
      envFile,
      workDir,
      vars,
      /** Stops the local Neon server: the Worker then finds its database unreachable. */
      stopDatabase: () => neon.close(),
      /** Starts it again on the same port. */
      startDatabase: async () => {
        neon = await startLocalNeon({ port: neonPort });
      },
      /** One statement on the stack's database, over TCP (for seeding and checking in tests). */
      query: (sql, params) => query(databaseUrl, sql, params),
      /**
       * Stops `wrangler dev` and starts it again on the same port, database and state directory, with
       * `extra` merged into its variables (e.g. `{ MVP_WORKER_ENABLED: "false" }`: a consumer that stops).
       */
      restart: async (extra = {}) => {
        if (wrangler) {
          const group = /** @type {number} */ (wrangler.pid);
          await stopProcessGroup(wrangler);
          await processGroupGone(group);
        }
        Object.assign(vars, extra);
        writeEnvFile();
        await startWrangler();
        log("up again");
      },
      /** Runs a cron tick now (wrangler dev --test-scheduled); answers the HTTP status. */
      scheduled: async (cron = "* * * * *") =>
        (await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron)}`)).status,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** SIGINT to the whole group, SIGKILL after 5 s; resolves when the leader has exited. */
function stopProcessGroup(/** @type {import("node:child_process").ChildProcess} */ child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return resolve(undefined);
    child.once("exit", () => resolve(undefined));
    const signal = (/** @type {NodeJS.Signals} */ name) => {
      try {
        process.kill(-(/** @type {number} */ (child.pid)), name);
      } catch {
        // already gone
      }
    };
    signal("SIGINT");
    setTimeout(() => signal("SIGKILL"), 5000).unref();
  });
}

/** Resolves once no process of the group is left (workerd may outlive wrangler briefly), at most 10 s. */
async function processGroupGone(/** @type {number} */ pgid) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
