// The local stack the bench measures: a fresh database on the machine's Postgres, the local Neon
// server (own process), and `wrangler dev` serving the exact bundle `wrangler deploy` would upload.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import pg from "pg";

const require = createRequire(import.meta.url);
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const WRANGLER_BIN = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");

/** Children still running, so an interrupted bench can stop them (wrangler leads its own process group). */
const running = new Set();

/** Stops every child this module started and has not stopped yet. */
export async function stopChildren() {
  await Promise.all([...running].map((stop) => stop()));
}

/** A port nothing listens on right now; others may run `npm run dev` on the default ports. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/** @param {string} url @param {string} name */
export function withDatabaseName(url, name) {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** @param {string} adminUrl @param {(client: pg.Client) => Promise<any>} fn */
export async function withClient(adminUrl, fn) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** @param {string} adminUrl @param {string} name */
export async function dropDatabase(adminUrl, name) {
  await withClient(adminUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
}

/**
 * `wrangler deploy --dry-run --outdir`: the bundle as it would be uploaded. The bench also serves this
 * very file, so a colleague saving a source file mid-run cannot reload the Worker under measurement.
 * @param {string} outdir
 */
export async function buildBundle(outdir) {
  mkdirSync(outdir, { recursive: true });
  const output = await run(process.execPath, [WRANGLER_BIN, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: ROOT,
  });
  const file = join(outdir, "index.js");
  const bytes = readFileSync(file);
  const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  return {
    file,
    bytes: statSync(file).size,
    gzipBytes: gzipSync(bytes).length,
    wranglerReported: reported ? { kib: Number(reported[1]), gzipKib: Number(reported[2]) } : null,
  };
}

/**
 * @param {string} command @param {string[]} args @param {import("node:child_process").SpawnOptions} options
 * @returns {Promise<string>} stdout and stderr together
 */
function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    });
    let output = "";
    child.stdout?.on("data", (d) => {
      output += d;
    });
    child.stderr?.on("data", (d) => {
      output += d;
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`${args.slice(1, 3).join(" ")} exited ${code}:\n${output}`)),
    );
  });
}

/**
 * The local Neon server (scripts/local-neon/server.ts) in its own process.
 * @returns {Promise<{ url: string, stats(): Promise<any>, close(): Promise<void> }>}
 */
export async function startNeonProcess() {
  const child = spawn(process.execPath, [join(ROOT, "bench", "lib", "neon-process.mjs")], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk) => {
      buffer += chunk;
      const line = buffer.split("\n")[0];
      if (buffer.includes("\n") && line) resolve(JSON.parse(line).url);
    });
    child.once("exit", (code) => reject(new Error(`local Neon exited ${code} before listening`)));
  });
  return {
    url,
    async stats() {
      const response = await fetch(`${url}/_stats`);
      return response.json();
    },
    close: tracked(() => stopChild(child, false)),
  };
}

/** @param {() => Promise<unknown>} stop */
function tracked(stop) {
  const once = async () => {
    running.delete(once);
    await stop();
  };
  running.add(once);
  return once;
}

/**
 * @param {import("node:child_process").ChildProcess} child
 * @param {boolean} group the child leads its own process group (wrangler: workerd and helpers)
 */
function stopChild(child, group) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
    child.once("exit", () => resolve(undefined));
    const signal = (/** @type {NodeJS.Signals} */ name) => {
      try {
        if (group && child.pid) process.kill(-child.pid, name);
        else child.kill(name);
      } catch {
        // already gone
      }
    };
    signal("SIGINT");
    setTimeout(() => signal("SIGKILL"), 5000).unref();
  });
}

/**
 * What the Worker's own log lines say (src/ops/request-log.ts, src/ops/invocations.ts): requests by
 * route and status with the statements each cost, and queue batches. A second, client-side statement
 * count next to the local Neon server's.
 */
export function createLogTally() {
  /** @type {Map<string, { count: number, statements: number }>} */
  const requests = new Map();
  /** Worker-side durations (ms, from the request's first middleware to its response) by route. */
  /** @type {Map<string, number[]>} */
  const durations = new Map();
  const batches = {
    jobs: { batches: 0, messages: 0, statements: 0 },
    other: { batches: 0, messages: 0, statements: 0 },
  };
  return {
    /** @param {string} line */
    add(line) {
      const start = line.indexOf('{"event":');
      if (start < 0) return;
      let event;
      try {
        event = JSON.parse(line.slice(start));
      } catch {
        return;
      }
      if (event.event === "http.request") {
        const key = `${event.method} ${event.route} ${event.status}`;
        const entry = requests.get(key) ?? { count: 0, statements: 0 };
        entry.count += 1;
        entry.statements += Number(event.db_statements ?? 0);
        requests.set(key, entry);
        const route = `${event.method} ${event.route}`;
        const list = durations.get(route) ?? [];
        list.push(Number(event.duration_ms ?? 0));
        durations.set(route, list);
      } else if (event.event === "queue.batch") {
        const target = /^jobs-(local|staging|production)$/.test(event.queue) ? batches.jobs : batches.other;
        target.batches += 1;
        target.messages += Number(event.messages ?? 0);
        target.statements += Number(event.db_statements ?? 0);
      }
    },
    /** How many durations `route` has so far, to slice one stretch of traffic out later. */
    durationCount(/** @type {string} */ route) {
      return durations.get(route)?.length ?? 0;
    },
    durationsSince(/** @type {string} */ route, /** @type {number} */ from) {
      return (durations.get(route) ?? []).slice(from);
    },
    snapshot() {
      return {
        requests: Object.fromEntries([...requests].map(([k, v]) => [k, { ...v }])),
        batches: { jobs: { ...batches.jobs }, other: { ...batches.other } },
      };
    },
  };
}

/**
 * `wrangler dev` on a prebuilt bundle, values through a private env file (never the command line,
 * where `ps` shows them), its own ports and state directory.
 * @param {{ script: string, vars: Record<string, string>, dir: string, name: string, config?: string }} options
 */
export async function startWrangler({ script, vars, dir, name, config = join(ROOT, "wrangler.toml") }) {
  const port = await freePort();
  const inspectorPort = await freePort();
  mkdirSync(dir, { recursive: true });
  const envFile = join(dir, `${name}.vars`);
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(String(v))}`)
      .join("\n"),
    { mode: 0o600 },
  );
  chmodSync(envFile, 0o600);
  const args = [WRANGLER_BIN, "dev", script, "--no-bundle", "--config", config];
  args.push("--port", String(port), "--inspector-port", String(inspectorPort), "--ip", "127.0.0.1");
  args.push("--persist-to", join(dir, `${name}-state`), "--env-file", envFile, "--test-scheduled");
  args.push("--show-interactive-dev-session=false");
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const tally = createLogTally();
  /** @type {string[]} */
  const tail = [];
  let pending = "";
  const onData = (/** @type {Buffer} */ chunk) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      tally.add(line);
      tail.push(line);
      if (tail.length > 200) tail.shift();
    }
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  // /api/ready is ok only with the database reachable, the schema at the latest migration and a valid
  // config: exactly what the bench needs before it starts.
  const deadline = Date.now() + 90_000;
  let last = "no answer";
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(`${url}/api/ready`);
      if (response.ok) break;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  if (Date.now() >= deadline || child.exitCode !== null) {
    await stopChild(child, true);
    throw new Error(`wrangler dev did not become ready (${last}):\n${tail.slice(-40).join("\n")}`);
  }
  return {
    url,
    tally,
    tail: () => tail.slice(),
    exited,
    close: tracked(() => stopChild(child, true)),
  };
}
