#!/usr/bin/env node
// npm run triage: first look at a Tollgate deployment during an incident. Reads only; changes nothing.
import { parseCli } from "./lib/args.ts";
import { playbookLink } from "./lib/checks.ts";
import { normalizeBaseUrl } from "./lib/http.ts";
import { formatTable } from "./lib/report-table.ts";
import { describeProblem, runTriage } from "./lib/triage.ts";

const USAGE = `
Usage: npm run triage -- --url <base> [--token T] [--json]

Checks a Tollgate deployment the way an on-call engineer would, reading only:
  1. GET /api/health   the Worker answers
  2. GET /api/ready    database reachable, schema at the latest migration, config valid, consumer heartbeat
  3. GET /api/ops/metrics (admin token) every figure against its alert threshold: webhook failures,
     failed jobs, worker heartbeat age, queue growth, dead-letter growth, ledger invariants,
     reconciliation repairs. Thresholds come from the metrics answer when it carries them, else from
     GET /api/ops/alerts (the cron's last evaluation), else the defaults in src/config/schema.ts.
For every problem it prints the likely cause and the runbook: docs/INCIDENT_RESPONSE_PLAYBOOK.md#<section>.

Options:
  --url BASE     the deployment's base URL (default: $BACKEND_BASE_URL)
  --token T      the admin token for /api/ops/* (default: $BACKEND_ADMIN_TOKEN); never printed.
                 Without one the metrics are not checked.
  --json         also print the findings as one JSON line at the end
  -h, --help     show this help

Exit codes (by severity):
  0  everything ok
  1  warning: something needs attention (a threshold of failed jobs, queue growth, dead-letter growth or
     reconciliation repairs reached, a stale heartbeat reported by ready, the admin token refused)
  2  critical: the API or the database is down, migrations pending, config invalid, the metrics cannot
     be read, the worker heartbeat is stale, webhook failures reached their threshold or the ledger
     invariants fail
A usage error (an unknown option, no URL) also exits 2, with the usage on stderr and no table.
`;

const { values } = parseCli({
  usage: USAGE,
  options: { url: { type: "string" }, token: { type: "string" }, json: { type: "boolean" } },
});

let base: string;
try {
  base = normalizeBaseUrl(values.url ?? process.env.BACKEND_BASE_URL);
} catch (error) {
  process.stderr.write(`triage: --url (or BACKEND_BASE_URL): ${(error as Error).message}\n`);
  process.exit(2);
}
const token = values.token ?? process.env.BACKEND_ADMIN_TOKEN ?? undefined;

const { findings, exitCode, verdict } = await runTriage({
  base,
  token,
  log: (line) => process.stdout.write(`triage: ${line}\n`),
});
process.stdout.write(
  `\n${formatTable(
    ["check", "result", "detail"],
    findings.map((f) => [f.check, f.severity.toUpperCase(), f.detail]),
  )}\n`,
);

const problems = findings.filter((f) => f.cause);
if (problems.length > 0) {
  process.stdout.write("\nLikely causes and what to do:\n");
  for (const p of problems) {
    process.stdout.write(`- ${describeProblem(p)}\n`);
    if (p.anchor) process.stdout.write(`    runbook: ${playbookLink(p.anchor)}\n`);
  }
}
process.stdout.write(`\ntriage: ${verdict} (exit ${exitCode})\n`);
if (values.json) process.stdout.write(`${JSON.stringify({ base, verdict, exit: exitCode, findings })}\n`);
process.exitCode = exitCode;
