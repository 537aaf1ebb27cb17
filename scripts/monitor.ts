#!/usr/bin/env node
// npm run monitor: the checks a scheduler runs (Backend Monitor); alerts a Slack-compatible webhook.
import { parseCli } from "./lib/args.ts";
import { PLAYBOOK } from "./lib/checks.ts";
import { normalizeBaseUrl } from "./lib/http.ts";
import { runMonitor } from "./lib/monitor.ts";
import { formatTable } from "./lib/report-table.ts";

const USAGE = `
Usage: npm run monitor -- --url <base> [--token T] [--dry-run]

The checks the Backend Monitor workflows run on a schedule:
  GET /api/health, GET /api/ready, and GET /api/ops/metrics with every figure against its alert
  threshold (webhook failures, failed jobs, worker heartbeat age, queue growth, dead-letter growth,
  ledger invariants, reconciliation repairs; thresholds as npm run triage reads them).
When a check fails and MONITOR_ALERT_WEBHOOK_URL is set, it posts one Slack-compatible message
({"text", "blocks"}) naming each failing check and its runbook in ${PLAYBOOK}.

Options:
  --url BASE     the deployment's base URL (default: $BACKEND_BASE_URL)
  --token T      the admin token (default: $BACKEND_ADMIN_TOKEN); without one the metrics are skipped
  --dry-run      print the message that would be posted; post nothing
  -h, --help     show this help

Environment:
  MONITOR_ALERT_WEBHOOK_URL   optional; a Slack incoming webhook or anything that takes its JSON.
                              Read from the environment only (the URL is a secret), never printed.

Exit 0 when every check passed, 1 when one failed (posted or not), 2 on a usage error.
Use npm run triage for the severity and the likely causes.
`;

const { values } = parseCli({
  usage: USAGE,
  options: { url: { type: "string" }, token: { type: "string" }, "dry-run": { type: "boolean" } },
});

let base: string;
try {
  base = normalizeBaseUrl(values.url ?? process.env.BACKEND_BASE_URL);
} catch (error) {
  process.stderr.write(`monitor: --url (or BACKEND_BASE_URL): ${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const log = (line: string) => process.stdout.write(`monitor: ${line}\n`);

const { failing, rows, message, exitCode } = await runMonitor({
  base,
  token: values.token ?? (process.env.BACKEND_ADMIN_TOKEN || undefined),
  webhookUrl: process.env.MONITOR_ALERT_WEBHOOK_URL || undefined,
  dryRun: values["dry-run"],
  log,
});
if (values["dry-run"] && message) process.stdout.write(`${JSON.stringify(message, null, 2)}\n`);

process.stdout.write(`\n${formatTable(["check", "result", "detail"], rows)}\n\n`);
log(failing.length > 0 ? `FAILED: ${failing.map((f) => f.check).join(", ")}` : "OK");
process.exitCode = exitCode;
