// One launcher for every local Tollgate stack: `npm run dev`, the Node tests' private stacks and the
// bench's. A stack is a migrated Postgres database, the local Neon server, the Stripe emulator (unless
// Stripe itself or none) and `wrangler dev` (the real bundle or a prebuilt one, local queues and cron).
// By default it is private: its own database, free ports, state directory and env file, so several can
// run side by side and next to `npm run dev`.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { startEmbeddedPostgres } from "../local-neon/embedded.ts";
import { type LocalNeonStats, startLocalNeon } from "../local-neon/server.ts";
import { startStripeEmulator } from "../stripe-emulator/server.ts";
import { runMigrations } from "./migrate.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WRANGLER_BIN = join(
  dirname(createRequire(import.meta.url).resolve("wrangler/package.json")),
  "bin",
  "wrangler.js",
);

export type DatabaseOption =
  /** A fresh database on a Postgres server, created and migrated; close() drops it unless `keep`. */
  | { kind: "private"; serverUrl?: string; prefix?: string; keep?: boolean }
  /** This database: created if missing and migrated (unless `migrate: false`); close() leaves it. */
  | { kind: "url"; url: string; migrate?: boolean }
  /** Embedded PGlite with its data in `dataDir`, migrated; close() stops it. */
  | { kind: "pglite"; dataDir: string };

export type StackOptions = {
  /** Default: a private database on `defaultServerUrl()`. */
  database?: DatabaseOption;
  /** 0 or absent picks a free port; `inspector: null` leaves wrangler's own default. */
  ports?: { worker?: number; neon?: number; stripe?: number; inspector?: number | null };
  /** The local Neon server in this process (default), or in a child process of its own. */
  neon?: "in-process" | "child";
  /** true (default): the Stripe emulator; false: no Stripe; `{ secretKey }`: Stripe itself. */
  stripe?: boolean | { secretKey: string };
  /** Default: random values of this stack's own. */
  adminToken?: string;
  betterAuthSecret?: string;
  webhookSecret?: string;
  /** Adds the stack's own origin (and the dev default's) to the three origin allowlists (default true). */
  allowOwnOrigin?: boolean;
  /** Merged last into the Worker's variables. */
  vars?: Record<string, string>;
  /** A prebuilt bundle served as is (`wrangler dev <script> --no-bundle`) instead of bundling src/. */
  script?: string;
  /** "web": wrangler.toml without its queue consumers (the production web role); needs `script`. */
  role?: "all-in-one" | "web";
  /** Holds the env file and wrangler's state; default a fresh temporary directory that close() removes. */
  workDir?: string;
  /** Names the env file (`<name>.vars`) and state directory (`<name>-state`) in workDir (default "dev"). */
  name?: string;
  envFile?: string;
  persistTo?: string;
  /** "inherit": wrangler writes to this terminal. "pipe" (default): kept for errors and `output()`. */
  output?: "inherit" | "pipe";
  /** Each line wrangler and the Worker print (piped output only). */
  onOutput?: (line: string) => void;
  /** wrangler's --log-level; default "error" when the output is piped and nobody reads it. */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  /** Answer once /api/health is ok (default), once /api/ready is ok, or at once ("none"). */
  waitFor?: "health" | "ready" | "none";
  startTimeoutMs?: number;
  /** wrangler exited on its own, not stopped by close() or restart(). */
  onExit?: (code: number | null) => void;
  /** Progress lines. */
  log?: (line: string) => void;
};

export type LocalStack = {
  url: string;
  port: number;
  ports: { worker: number; neon: number; stripe: number | undefined; inspector: number | undefined };
  databaseUrl: string;
  databaseName: string;
  adminToken: string;
  webhookSecret: string;
  stripeUrl: string | undefined;
  neonUrl: string;
  envFile: string;
  workDir: string;
  vars: Record<string, string>;
  /** The local Neon server's counters (GET /_stats). */
  neonStats(): Promise<LocalNeonStats>;
  /** The last 200 lines wrangler printed (piped output only). */
  output(): string[];
  /** Polls /api/ready once a second; false if not ok within `timeoutMs` or the stack closed. */
  ready(timeoutMs?: number): Promise<boolean>;
  /** Stops the local Neon server: the Worker then finds its database unreachable. */
  stopDatabase(): Promise<void>;
  /** Starts it again on the same port. */
  startDatabase(): Promise<void>;
  /** Runs a cron tick now (wrangler dev --test-scheduled); answers the HTTP status. */
  scheduled(cron?: string): Promise<number>;
  /**
   * Stops `wrangler dev` and starts it again on the same port, database and state directory, with
   * `extra` merged into its variables (e.g. `{ MVP_WORKER_ENABLED: "false" }`: a consumer that stops).
   */
  restart(extra?: Record<string, string>): Promise<void>;
  /** One statement on the stack's database, over TCP (for seeding and checking). */
  // biome-ignore lint/suspicious/noExplicitAny: rows of whatever statement the caller wrote, read field by field
  query(sql: string, params?: unknown[]): Promise<Record<string, any>[]>;
  /** Stops everything it started, in reverse order, and drops a private database. */
  close(): Promise<void>;
};

/** The Postgres server private stacks create their databases on: TEST_DATABASE_URL, else the machine's. */
export function defaultServerUrl(): string {
  return process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
}

/**
 * Runs a Node script of this project in a child process (never blocking this one, which may host the
 * stack's servers) and collects its exit code and output.
 */
export function runScript(
  script: string,
  args: string[],
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...(options.env ?? {}) };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const child = spawn(process.execPath, [join(ROOT, script), ...args], { cwd: ROOT, env });
    let output = "";
    child.stdout.on("data", (c) => {
      output += c;
    });
    child.stderr.on("data", (c) => {
      output += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** wrangler.toml's text without its `[[queues.consumers]]` tables: a queue producer only. */
function withoutQueueConsumers(source: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of source.split("\n")) {
    if (/^\s*\[/.test(line)) skipping = /^\s*\[\[queues\.consumers\]\]/.test(line);
    if (!skipping) out.push(line);
  }
  return out.join("\n");
}

/** Stacks not closed yet, so an interrupted process can stop every child it started. */
const open = new Set<() => Promise<void>>();

/** Closes every stack this process started and has not closed. */
export async function closeAllStacks(): Promise<void> {
  await Promise.all([...open].map((close) => close()));
}

/** Values reach wrangler through a private env file, never its command line, where `ps` shows them. */
function writeEnvFile(file: string, vars: Record<string, string>) {
  writeFileSync(
    file,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
      .join("\n")}\n`,
    { mode: 0o600 },
  );
  // The mode above applies only to a new file.
  chmodSync(file, 0o600);
}

type NeonServer = { url: string; port: number; close(): Promise<void> };

/** The local Neon server in a child process (scripts/lib/neon-process.ts). */
async function startNeonChild(port: number): Promise<NeonServer> {
  const child = spawn(
    process.execPath,
    [join(ROOT, "scripts", "lib", "neon-process.ts"), "--port", String(port)],
    {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk) => {
      buffer += chunk;
      const newline = buffer.indexOf("\n");
      if (newline >= 0) resolve(JSON.parse(buffer.slice(0, newline)).url);
    });
    child.once("exit", (code) => reject(new Error(`local Neon exited ${code} before listening`)));
  });
  return { url, port: Number(new URL(url).port), close: () => stopChild(child, false) };
}

/** SIGINT (to the whole group when the child leads one), SIGKILL after 5 s; resolves once it exited. */
function stopChild(child: ChildProcess, group: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return resolve();
    child.once("exit", () => resolve());
    const pid = child.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        if (group) process.kill(-pid, name);
        else child.kill(name);
      } catch {
        // already gone
      }
    };
    signal("SIGINT");
    setTimeout(() => signal("SIGKILL"), 5000).unref();
  });
}

/** Resolves once no process of the group is left (workerd may outlive wrangler briefly), at most 10 s. */
async function processGroupGone(pgid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts a stack. Everything it started is stopped (and a private database dropped) by `close()`, also
 * when starting fails half-way.
 */
export async function startLocalStack(options: StackOptions = {}): Promise<LocalStack> {
  if (options.role === "web" && !options.script) throw new Error("the web role needs a prebuilt script");
  const log = options.log ?? (() => {});
  const database = options.database ?? { kind: "private" };
  const id = `${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), "tollgate-stack-"));
  mkdirSync(workDir, { recursive: true });
  const name = options.name ?? "dev";
  const envFile = options.envFile ?? join(workDir, `${name}.vars`);
  const persistTo = options.persistTo ?? join(workDir, `${name}-state`);
  const adminToken = options.adminToken ?? `stack-admin-${randomBytes(24).toString("hex")}`;
  const webhookSecret = options.webhookSecret ?? `whsec_stack${randomBytes(16).toString("hex")}`;
  const betterAuthSecret = options.betterAuthSecret ?? `stack-better-auth-${randomBytes(24).toString("hex")}`;
  const piped = options.output !== "inherit";
  const logLevel = options.logLevel ?? (piped && !options.onOutput ? "error" : undefined);
  const waitFor = options.waitFor ?? "health";

  const stops: (() => Promise<void>)[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    open.delete(close);
    for (const stop of stops.reverse()) await stop().catch(() => {});
    if (ownWorkDir) rmSync(workDir, { recursive: true, force: true });
  };
  open.add(close);

  try {
    let databaseUrl: string;
    if (database.kind === "pglite") {
      const embedded = await startEmbeddedPostgres({ dataDir: database.dataDir });
      stops.push(() => embedded.close());
      databaseUrl = embedded.connectionString;
    } else if (database.kind === "url") {
      databaseUrl = database.url;
    } else {
      const serverUrl = database.serverUrl ?? defaultServerUrl();
      const privateName = `${database.prefix ?? "tollgate_stack"}_${id}`;
      databaseUrl = withDatabaseName(serverUrl, privateName);
      log(`database ${privateName}: create and migrate`);
      if (!database.keep) stops.push(() => dropDatabase(serverUrl, privateName));
    }
    const databaseName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
    if (database.kind !== "url" || database.migrate !== false) {
      log("migrating");
      const migrated = await runMigrations(databaseUrl, { createDatabase: true, log });
      log(migrated.applied.length ? `applied ${migrated.applied.join(", ")}` : "schema up to date");
    }

    const neonPort = options.ports?.neon ?? 0;
    const startNeon = (port: number) =>
      options.neon === "child" ? startNeonChild(port) : startLocalNeon({ port });
    let neon: NeonServer | undefined = await startNeon(neonPort);
    const neonUrl = neon.url;
    const fixedNeonPort = neon.port;
    stops.push(async () => {
      await neon?.close();
    });
    log(`local Neon at ${neonUrl}`);

    const port = options.ports?.worker || (await freePort());
    const inspectorPort =
      options.ports?.inspector === null ? undefined : options.ports?.inspector || (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const vars: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      LOCAL_NEON_URL: neonUrl,
      ADMIN_TOKEN: adminToken,
      BETTER_AUTH_SECRET: betterAuthSecret,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
    };
    if (options.allowOwnOrigin !== false) {
      // Browser-like clients (and smoke's sign-up) can then use the stack's real URL.
      const origins = `${url},http://localhost:${port},http://localhost:8787,http://127.0.0.1:8787`;
      vars.AUTH_ORIGIN_ALLOWLIST = origins;
      vars.CORS_ALLOW_ORIGINS = origins;
      vars.PUBLIC_ORIGIN_ALLOWLIST = origins;
    }

    let stripeUrl: string | undefined;
    let stripePort: number | undefined;
    const stripe = options.stripe ?? true;
    if (typeof stripe === "object") {
      vars.STRIPE_SECRET_KEY = stripe.secretKey;
      log("STRIPE_SECRET_KEY set: using Stripe itself, not the emulator");
    } else if (stripe) {
      const emulator = await startStripeEmulator({
        port: options.ports?.stripe ?? 0,
        forwardTo: `${url}/api/billing/stripe/webhook`,
        webhookSecret,
      });
      stops.push(() => emulator.close());
      stripeUrl = emulator.url;
      stripePort = emulator.port;
      vars.STRIPE_API_BASE = emulator.url;
      log(`Stripe emulator at ${emulator.url} (checkout pages, signed webhooks to the Worker)`);
    }
    Object.assign(vars, options.vars ?? {});
    writeEnvFile(envFile, vars);

    let config: string | undefined;
    if (options.role === "web") {
      // Written next to the state, so concurrent stacks never share it; `main` is overridden by the
      // script on the command line, and nothing else in it is a relative path.
      config = join(workDir, `${name}.wrangler.toml`);
      writeFileSync(config, withoutQueueConsumers(readFileSync(join(ROOT, "wrangler.toml"), "utf8")));
    } else if (options.script) {
      config = join(ROOT, "wrangler.toml");
    }
    const args = [WRANGLER_BIN, "dev"];
    if (options.script) args.push(options.script, "--no-bundle");
    if (config) args.push("--config", config);
    args.push("--port", String(port), "--ip", "127.0.0.1", "--test-scheduled");
    if (inspectorPort) args.push("--inspector-port", String(inspectorPort));
    args.push("--persist-to", persistTo, "--env-file", envFile);
    if (logLevel) args.push("--log-level", logLevel);
    if (piped) args.push("--show-interactive-dev-session=false");

    let wrangler: ChildProcess | undefined;
    const tail: string[] = [];
    const keep = (line: string) => {
      options.onOutput?.(line);
      tail.push(line);
      if (tail.length > 200) tail.shift();
    };
    const stopWrangler = async () => {
      const child = wrangler;
      wrangler = undefined;
      if (!child?.pid) return;
      await stopChildGroup(child);
    };
    const stopChildGroup = async (child: ChildProcess) => {
      await stopChild(child, true);
      if (child.pid) await processGroupGone(child.pid);
    };
    stops.push(stopWrangler);

    const waitUp = async (child: ChildProcess, path: string, what: string) => {
      const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
      let last = "no answer";
      for (;;) {
        try {
          const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(2000) });
          if (response.ok) return;
          last = `${response.status} ${(await response.text()).slice(0, 300)}`;
        } catch (error) {
          last = String(error);
        }
        const output = tail.slice(-40).join("\n");
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`wrangler dev exited ${child.exitCode ?? child.signalCode} (${last}):\n${output}`);
        if (Date.now() > deadline)
          throw new Error(`wrangler dev did not become ${what} (${last}):\n${output}`);
        await sleep(300);
      }
    };

    const startWrangler = async () => {
      if (closed) throw new Error("the stack was closed while starting");
      log(`starting wrangler dev on ${url}`);
      // Its own process group, so stopping it reaches workerd and every helper wrangler starts.
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        detached: true,
        stdio: piped ? ["ignore", "pipe", "pipe"] : "inherit",
        env: {
          ...process.env,
          WRANGLER_SEND_METRICS: "false",
          ...(piped ? { NO_COLOR: "1", FORCE_COLOR: "0" } : {}),
        },
      });
      wrangler = child;
      if (piped) {
        for (const stream of [child.stdout, child.stderr]) {
          let pending = "";
          stream?.on("data", (chunk: Buffer) => {
            pending += chunk.toString("utf8");
            const lines = pending.split("\n");
            pending = lines.pop() ?? "";
            for (const line of lines) keep(line);
          });
        }
      }
      child.once("exit", (code) => {
        if (wrangler === child && !closed) options.onExit?.(code);
      });
      if (waitFor === "health") await waitUp(child, "/api/health", "healthy");
      else if (waitFor === "ready") await waitUp(child, "/api/ready", "ready");
    };
    await startWrangler();
    if (waitFor !== "none") log("up");

    const stack: LocalStack = {
      url,
      port,
      ports: { worker: port, neon: fixedNeonPort, stripe: stripePort, inspector: inspectorPort },
      databaseUrl,
      databaseName,
      adminToken,
      webhookSecret,
      stripeUrl,
      neonUrl,
      envFile,
      workDir,
      vars,
      neonStats: async () => (await fetch(`${neonUrl}/_stats`)).json() as Promise<LocalNeonStats>,
      output: () => tail.slice(),
      ready: async (timeoutMs = 60_000) => {
        const deadline = Date.now() + timeoutMs;
        while (Date.now() < deadline && !closed) {
          try {
            if ((await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(5000) })).ok) return true;
          } catch {
            // not listening yet
          }
          await sleep(1000);
        }
        return false;
      },
      stopDatabase: async () => {
        const running = neon;
        neon = undefined;
        await running?.close();
      },
      startDatabase: async () => {
        if (!neon) neon = await startNeon(fixedNeonPort);
      },
      scheduled: async (cron = "* * * * *") =>
        (await fetch(`${url}/__scheduled?cron=${encodeURIComponent(cron)}`)).status,
      restart: async (extra = {}) => {
        await stopWrangler();
        Object.assign(vars, extra);
        writeEnvFile(envFile, vars);
        await startWrangler();
        log("up again");
      },
      query: (sql, params = []) => withClient(databaseUrl, async (c) => (await c.query(sql, params)).rows),
      close,
    };
    return stack;
  } catch (error) {
    await close();
    throw error;
  }
}
