// npm run monitor's checks as a function (go-live runs them too): health, ready and the metrics against
// their thresholds; when one fails, one Slack-compatible message to MONITOR_ALERT_WEBHOOK_URL.
import { type Finding, PLAYBOOK, runOperationalChecks } from "./checks.ts";

export type MonitorOptions = {
  base: string;
  /** The admin token for /api/ops/*; without one the metrics are skipped. */
  token?: string;
  /** Where the alert goes (a secret: never printed); without it nothing is posted. */
  webhookUrl?: string;
  /** Build the message, post nothing. */
  dryRun?: boolean;
  /** Progress lines; nothing is printed without it. */
  log?: (line: string) => void;
};

export type SlackMessage = { text: string; blocks: unknown[] };

export type MonitorResult = {
  findings: Finding[];
  /** The findings that count as failures (warnings and criticals). */
  failing: Finding[];
  /** One row per check, plus the alert's when something failed: [check, PASS | FAIL | SKIP, detail]. */
  rows: [string, string, string][];
  /** The message posted, or that would have been, when something failed. */
  message: SlackMessage | null;
  /** 0 when every check passed, 1 when one failed (posted or not). */
  exitCode: 0 | 1;
};

export async function runMonitor({
  base,
  token,
  webhookUrl,
  dryRun = false,
  log = () => {},
}: MonitorOptions): Promise<MonitorResult> {
  log(`${base}: health, ready, metrics${token ? "" : " (no admin token: metrics skipped)"} ...`);
  const { findings } = await runOperationalChecks(base, token);
  const failing = findings.filter((f) => f.severity === "warn" || f.severity === "critical");
  for (const f of findings)
    log(
      `  ${f.check}: ${f.severity === "ok" ? "pass" : f.severity === "skip" ? "skip" : "FAIL"} ${f.detail}`,
    );

  const rows: [string, string, string][] = findings.map((f) => [
    f.check,
    f.severity === "ok" ? "PASS" : f.severity === "skip" ? "SKIP" : "FAIL",
    f.detail,
  ]);

  let message: SlackMessage | null = null;
  if (failing.length > 0) {
    message = alertMessage(base, failing);
    if (dryRun) {
      log("dry run: the message that would be posted:");
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
  return { findings, failing, rows, message, exitCode: failing.length > 0 ? 1 : 0 };
}

/**
 * Slack-compatible: `text` for every receiver, `blocks` for Slack. Names checks, figures and runbooks;
 * never a token or a URL with one. Links to the runbooks and the run when it runs in GitHub Actions.
 */
function alertMessage(base: string, failures: Finding[]): SlackMessage {
  const env = process.env;
  const host = new URL(base).host;
  const runbookBase =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/blob/${env.GITHUB_SHA ?? "HEAD"}/${PLAYBOOK}`
      : PLAYBOOK;
  const run =
    env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY
      ? `${env.GITHUB_SERVER_URL ?? "https://github.com"}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
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

async function post(url: string, message: unknown): Promise<{ ok: boolean; detail: string }> {
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
    return { ok: false, detail: `could not post (${(error as Error).name})` };
  }
}
