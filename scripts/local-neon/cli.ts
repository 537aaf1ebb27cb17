#!/usr/bin/env node
import { parseCli } from "../lib/args.ts";
import { startEmbeddedPostgres } from "./embedded.ts";
import { startLocalNeon } from "./server.ts";

const USAGE = `Usage: node scripts/local-neon/cli.ts [options]

Serves Neon's HTTP /sql endpoint and WebSocket proxy over a real Postgres, so the
@neondatabase/serverless driver works locally exactly as against Neon.

Options:
  --port <n>            Port to listen on (default 4444; 0 picks a free one)
  --host <addr>         Address to bind (default 127.0.0.1)
  --database-url <url>  Postgres to serve (default: $DATABASE_URL). Without either,
                        starts embedded PGlite with its data in --data-dir.
  --data-dir <path>     Embedded PGlite data directory (default .data/pglite)
  --quiet               Do not log requests
  -h, --help            Show this help

Point the driver at it with
  neonConfig.fetchEndpoint = () => "http://127.0.0.1:4444/sql"
  neonConfig.wsProxy = (host, port) => \`127.0.0.1:4444/v2?address=\${host}:\${port}\`
  neonConfig.useSecureWebSocket = false; neonConfig.pipelineTLS = false; neonConfig.pipelineConnect = false
Counters: GET /_stats, POST /_stats/reset[?database=<name>]`;

const values = parseCli({
  usage: USAGE,
  options: {
    port: { type: "string", default: "4444" },
    host: { type: "string", default: "127.0.0.1" },
    "database-url": { type: "string" },
    "data-dir": { type: "string", default: ".data/pglite" },
    quiet: { type: "boolean", default: false },
  },
}).values as { port: string; host: string; "database-url"?: string; "data-dir": string; quiet: boolean };

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`Invalid --port: ${values.port}\n`);
  process.exit(2);
}

const stops: Array<() => Promise<void>> = [];
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  for (const close of stops.reverse()) await close().catch(() => {});
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

let databaseUrl = values["database-url"] ?? process.env.DATABASE_URL;
if (!databaseUrl) {
  const embedded = await startEmbeddedPostgres({ dataDir: values["data-dir"] });
  stops.push(() => embedded.close());
  databaseUrl = embedded.connectionString;
  console.log(`Embedded PGlite (${embedded.dataDir}) at ${databaseUrl}`);
}

const neon = await startLocalNeon({ port, host: values.host, log: !values.quiet });
stops.push(() => neon.close());
console.log(`Local Neon listening on ${neon.url} for ${redact(databaseUrl)}`);

function redact(url: string) {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}
