#!/usr/bin/env node
// npm run smoke: one paid job end to end against a deployment, the way a client would run it.
import { parseCli } from "./lib/args.ts";
import { normalizeBaseUrl } from "./lib/http.ts";
import { finishReport } from "./lib/report-table.ts";
import { runSmoke } from "./lib/smoke.ts";

const USAGE = `
Usage: npm run smoke -- --url <base> [--api-key K] [--admin-token T] [--bootstrap [--save-key FILE]]
                        [--top-up N] [--origin ORIGIN] [--timeout SECONDS]

Runs one paid job through a deployment and checks every promise on the way:
  1. GET /api/ready is ok
  2. the smoke account's balance (GET /api/me); with an admin token and fewer credits than a job holds,
     an operator grant tops it up (POST /api/admin/accounts/:id/grants)
  3. POST /api/jobs {type: "echo"} with a fresh Idempotency-Key: 201, queued, its cost held
  4. the same request again: the same job id, with Idempotent-Replayed: true, nothing new held
  5. the job reaches succeeded (polled, bounded by --timeout)
  6. the ledger (GET /api/billing/ledger) has exactly one hold for the job, posted by exactly one capture
     of the charged amount
  7. GET /api/me: the balance fell by exactly the charge and nothing is left held for it

Credentials (never printed):
  --api-key K        an API key of a dedicated smoke account (default: $SMOKE_API_KEY)
  --admin-token T    the admin token (default: $BACKEND_ADMIN_TOKEN), for top-ups and --bootstrap
  --bootstrap        no key yet: sign up a new smoke user, create an API key for it and grant it
                     credits (needs the admin token). Meant for local stacks and for creating the
                     account once; --save-key FILE writes the new key there (mode 0600) so it can
                     become SMOKE_API_KEY: gh secret set SMOKE_API_KEY < FILE

Options:
  --url BASE         the deployment's base URL (default: $BACKEND_BASE_URL)
  --top-up N         credits to grant when the account runs low, or on --bootstrap (default 100)
  --origin ORIGIN    Origin sent with --bootstrap's cookie requests (default: the URL's origin); must
                     be on the deployment's AUTH_ORIGIN_ALLOWLIST
  --timeout SECONDS  how long to wait for the job to succeed (default 60)
  -h, --help         show this help

Exit 0 when every step passed, 1 when one failed, 2 on a usage error.
`;

const { values } = parseCli({
  usage: USAGE,
  options: {
    url: { type: "string" },
    "api-key": { type: "string" },
    "admin-token": { type: "string" },
    bootstrap: { type: "boolean" },
    "save-key": { type: "string" },
    "top-up": { type: "string" },
    origin: { type: "string" },
    timeout: { type: "string" },
  },
});

function usageError(message: string): never {
  process.stderr.write(`smoke: ${message}\n${USAGE}`);
  process.exit(2);
}
let base = "";
try {
  base = normalizeBaseUrl(values.url ?? process.env.BACKEND_BASE_URL);
} catch (error) {
  usageError(`--url (or BACKEND_BASE_URL): ${(error as Error).message}`);
}
const positive = (raw: string | undefined, fallback: number, name: string) => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) usageError(`--${name} must be a positive whole number`);
  return Number(raw);
};
const topUp = positive(values["top-up"], 100, "top-up");
const timeoutS = positive(values.timeout, 60, "timeout");
const apiKey = values["api-key"] ?? (process.env.SMOKE_API_KEY || undefined);
const adminToken = values["admin-token"] ?? (process.env.BACKEND_ADMIN_TOKEN || undefined);
if (values.bootstrap && !adminToken)
  usageError("--bootstrap needs the admin token (--admin-token or BACKEND_ADMIN_TOKEN)");
if (!values.bootstrap && !apiKey)
  usageError("no API key: pass --api-key or set SMOKE_API_KEY (or --bootstrap with an admin token)");
if (values["save-key"] && !values.bootstrap) usageError("--save-key goes with --bootstrap");

const { rows } = await runSmoke({
  base,
  apiKey,
  adminToken,
  bootstrap: values.bootstrap,
  saveKey: values["save-key"],
  topUp,
  timeoutS,
  origin: values.origin,
  log: (line) => process.stdout.write(`smoke: ${line}\n`),
});
process.exitCode = finishReport("smoke", rows);
