#!/usr/bin/env node
// npm run monitor: the checks a scheduler runs (Backend Monitor); alerts a Slack-compatible webhook.
import { parseCli } from "./lib/args.mjs";
import { PLAYBOOK, runOperationalChecks } from "./lib/checks.mjs";
import { normalizeBaseUrl } from "./lib/http.ts";
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

let base = "";
try {
  base = normalizeBaseUrl(values.url ?? process.env.BACKEND_BASE_URL);
} catch (error) {
  process.stderr.write(
    `monitor: --url (or BACKEND_BASE_URL): ${/** @type {Error} */ (error).message}\n${USAGE}`,
  );
  process.exit(2);
}
const token = values.token ?? (process.env.BACKEND_ADMIN_TOKEN || undefined);
const webhookUrl = process.env.MONITOR_ALERT_WEBHOOK_URL || undefined;
const log = (/** @type {string} */ line) => process.stdout.write(`monitor: ${line}\n`);

log(`${base}: health, ready, metrics${token ? "" : " (no admin token: metrics skipped)"} ...`);
const { findings } = await runOperationalChecks(base, token);
const failing = findings.filter((f) => f.severity === "warn" || f.severity === "critical");
for (const f of findings)
  log(`  ${f.check}: ${f.severity === "ok" ? "pass" : f.severity === "skip" ? "skip" : "FAIL"} ${f.detail}`);

/** @type {string[][]} */
const rows = findings.map((f) => [
  f.check,
  f.severity === "ok" ? "PASS" : f.severity === "skip" ? "SKIP" : "FAIL",
  f.detail,
]);

if (failing.length > 0) {
  const message = alertMessage(failing);
  if (values["dry-run"]) {
    log("dry run: the message that would be posted:");
    process.stdout.write(`${JSON.stringify(message, null, 2)}\n`);
    rows.push(["alert", "SKIP", "dry run: nothing posted"]);
  } else if (!webhookUrl) {
    log("MONITOR_ALERT_WEBHOOK_URL is not set: no alert posted");
    rows.push(["alert", "SKIP", "MONITOR_ALERT_WEBHOOK_URL not set"]);
  } else {
    log("posting the alert to MONITOR_ALERT_WEBHOOK_URL ...");
    const delivery = await post(webhookUrl, message);
    log(`  ${delivery.ok ? "pass" : "FAIL"}: ${delivery.detail}`);
    rows.push(["alert", delivery.ok ? "PASS" : "FAIL", delivery.detail]);
  }
}

process.stdout.write(`\n${formatTable(["check", "result", "detail"], rows)}\n\n`);
log(failing.length > 0 ? `FAILED: ${failing.map((f) => f.check).join(", ")}` : "OK");
process.exitCode = failing.length > 0 ? 1 : 0;

/**
 * Slack-compatible: `text` for every receiver, `blocks` for Slack. Names checks, figures and runbooks;
 * never a token or a URL with one.
 * @param {import("./lib/checks.mjs").Finding[]} failures
 */
function alertMessage(failures) {
  const host = new URL(base).host;
  const runbookBase =
    process.env.GITHUB_SERVER_URL && process.env.GITHUB_REPOSITORY
      ? `${process.env.GITHUB_SERVER_URL}/${process.env.GITHUB_REPOSITORY}/blob/${process.env.GITHUB_SHA ?? "HEAD"}/${PLAYBOOK}`
      : PLAYBOOK;
  const run =
    process.env.GITHUB_RUN_ID && process.env.GITHUB_REPOSITORY
      ? `${process.env.GITHUB_SERVER_URL ?? "https://github.com"}/${process.env.GITHUB_REPOSITORY}/actions/runs/${process.env.GITHUB_RUN_ID}`
      : undefined;
  const lines = failures.map(
    (f) =>
      `• *${f.check}* (${f.severity}): ${f.detail}${f.anchor ? ` — runbook: ${runbookBase}#${f.anchor}` : ""}`,
  );
  const text = `:rotating_light: Tollgate monitor: ${failures.length} check(s) failing on ${host}: ${failures
    .map((f) => f.check)
    .join(", ")}`;
  return {
    text,
    blocks: [
      { type: "section", text: { type: "mrkdwn", text: `:rotating_light: *Tollgate monitor: ${host}*` } },
      { type: "section", text: { type: "mrkdwn", text: lines.join("\n") } },
      {
        type: "context",
        elements: [
          {
            type: "mrkdwn",
            text: `Triage: \`npm run triage -- --url ${base}\`${run ? ` · <${run}|monitor run>` : ""}`,
          },
        ],
      },
    ],
  };
}

/** @param {string} url @param {unknown} message */
async function post(url, message) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    return response.ok
      ? { ok: true, detail: `posted (${response.status})` }
      : { ok: false, detail: `the webhook answered ${response.status}` };
  } catch (error) {
    // The error class only: a fetch error message can carry the URL, and the URL is a secret.
    return { ok: false, detail: `could not post (${/** @type {Error} */ (error).name})` };
  }
}
