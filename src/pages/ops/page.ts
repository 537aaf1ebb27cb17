import type { Config } from "../../config/index.ts";
import { ruleTitle } from "../../ops/alerts/rules.ts";
import type { ConsoleData } from "../../ops/console.ts";
import { lineChart } from "./charts.ts";
import { type Html, html, trusted } from "./html.ts";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#1d2330;background:#f6f7f9}
header{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap}h1{margin:0;font-size:20px}header p{margin:0;color:#5b6475;flex:1}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px;margin:12px 0}h2{font-size:16px;margin:0 0 8px}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px;margin:0}
.figures div{border:1px solid #e4e7ec;border-radius:4px;padding:6px 8px}.figures dt{color:#5b6475;font-size:12px}.figures dd{margin:0;font-size:20px;font-weight:600}
.bad dd,.firing td.status{color:#b42318}.good dd{color:#067647}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0}figcaption{font-weight:600;margin-bottom:4px}
.chart svg{max-width:100%;height:auto;background:#fbfcfd}.plot{fill:none;stroke:#e4e7ec}.axis,.empty{font-size:10px;fill:#5b6475}
.line{fill:none;stroke-width:1.5}.queue{stroke:#2e6fdb}.failed{stroke:#b42318}.webhook{stroke:#dc6803}.heartbeat{stroke:#6941c6}
.threshold{stroke:#b42318;stroke-dasharray:4 3}.key{font-weight:400;font-size:12px;margin-left:8px}.key::before{content:"\\25A0 "}
.key.queue{color:#2e6fdb}.key.failed{color:#b42318}.key.webhook{color:#dc6803}.key.heartbeat{color:#6941c6}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-size:12px;color:#5b6475}tr.firing{background:#fef3f2}td.mono{font-family:ui-monospace,monospace;font-size:12px}
form{display:inline;margin:0}button{cursor:pointer}.notice{padding:8px 12px;border-radius:4px;margin:12px 0}
.notice.ok{background:#ecfdf3;border:1px solid #abefc6}.notice.error{background:#fef3f2;border:1px solid #fecdca}
.muted{color:#5b6475}`;

export type Notice = { kind: "ok" | "error"; text: string };

function when(iso: string | null): string {
  return iso
    ? iso
        .replace("T", " ")
        .replace(/\.\d+Z$|Z$/, " UTC")
        .replace(/\+00:00$/, " UTC")
    : "—";
}

function figure(id: string, label: string, value: unknown, state: "good" | "bad" | "" = ""): Html {
  return html`<div class="${state}" data-metric="${id}"><dt>${label}</dt><dd>${value}</dd></div>`;
}

function figures(data: ConsoleData, config: Config): Html {
  const m = data.metrics;
  const age = m.worker_heartbeat_age_s;
  const stale = age === null || age > config.HEARTBEAT_STALE_AFTER_S;
  return html`<section id="figures"><h2>Now</h2><dl class="figures">
${figure("worker_heartbeat_age_s", "Worker heartbeat age (s)", age ?? "never", stale ? "bad" : "good")}
${figure("queue_depth", "Queue depth", m.queue_depth)}
${figure("queue_growth_1h", "Queue growth, 1 h", m.queue_growth_1h, m.queue_growth_1h >= config.ALERT_QUEUE_GROWTH_1H ? "bad" : "")}
${figure("failed_jobs_1h", "Failed jobs, 1 h", m.failed_jobs_1h, m.failed_jobs_1h >= config.ALERT_FAILED_JOBS_1H ? "bad" : "")}
${figure("webhook_failures_1h", "Webhook failures, 1 h", m.webhook_failures_1h, m.webhook_failures_1h >= config.ALERT_WEBHOOK_FAILURES_1H ? "bad" : "")}
${figure("dead_letter_total", "Dead letters", m.dead_letter_total)}
${figure("dead_letter_growth_1h", "New dead letters, 1 h", m.dead_letter_growth_1h, m.dead_letter_growth_1h >= config.ALERT_DEAD_LETTER_GROWTH_1H ? "bad" : "")}
${figure("reconcile_repairs_24h", "Reconcile repairs, 24 h", m.reconcile_repairs_24h, m.reconcile_repairs_24h >= config.ALERT_RECONCILE_REPAIRS_24H ? "bad" : "")}
${figure("ledger_ok", "Ledger", m.ledger_ok ? "ok" : "DRIFT", m.ledger_ok ? "good" : "bad")}
</dl>
<p class="muted">Jobs by status: ${Object.entries(m.jobs_by_status).map(([s, n], i) => html`${i > 0 ? " · " : ""}${s} <b data-status="${s}">${n}</b>`)}</p>
</section>`;
}

function charts(data: ConsoleData, config: Config, now: number): Html {
  const pick = (key: "queue_depth" | "failed_jobs_1h" | "webhook_failures_1h" | "heartbeat_age_s") =>
    data.series.map((p) => ({ at: p.at, value: p[key] }));
  return html`<section id="charts"><h2>Last 24 hours</h2><div class="charts">
${lineChart({ id: "queue_depth", title: "Queue depth", now, series: [{ name: "queued jobs", className: "queue", points: pick("queue_depth") }] })}
${lineChart({
  id: "failures",
  title: "Failures per hour",
  now,
  series: [
    { name: "failed jobs", className: "failed", points: pick("failed_jobs_1h") },
    { name: "webhook failures", className: "webhook", points: pick("webhook_failures_1h") },
  ],
})}
${lineChart({
  id: "heartbeat_age",
  title: "Worker heartbeat age",
  unit: "seconds",
  now,
  threshold: config.HEARTBEAT_STALE_AFTER_S,
  series: [{ name: "heartbeat age", className: "heartbeat", points: pick("heartbeat_age_s") }],
})}
</div></section>`;
}

function alerts(data: ConsoleData): Html {
  const rows = data.alerts.map(
    (a) =>
      html`<tr class="${a.status}" data-rule="${a.rule}"><td>${ruleTitle(a.rule)}</td><td class="status">${a.status}</td><td>${a.summary ?? ""}</td><td>${when(a.changed_at)}</td></tr>`,
  );
  const sent = data.notifications.map(
    (n) =>
      html`<tr><td>${when(n.created_at)}</td><td>${n.event}</td><td>${n.summary}</td><td>${n.delivered_at ? `delivered ${when(n.delivered_at)}` : `pending (attempt ${n.attempts}${n.last_error ? `, ${n.last_error}` : ""})`}</td></tr>`,
  );
  const firing = data.alerts.filter((a) => a.status === "firing").length;
  return html`<section id="alerts"><h2>Alerts <small class="muted" data-firing="${firing}">${firing} firing</small></h2>
${rows.length === 0 ? html`<p class="muted">Not evaluated yet: the every-minute cron evaluates the rules.</p>` : html`<table><thead><tr><th>rule</th><th>state</th><th>last evaluation</th><th>since</th></tr></thead><tbody>${rows}</tbody></table>`}
${sent.length === 0 ? "" : html`<h2>Recent notifications</h2><table><tbody>${sent}</tbody></table>`}
</section>`;
}

function deadLetters(data: ConsoleData): Html {
  const rows = data.deadLetters.map(
    (
      d,
    ) => html`<tr data-dead-letter="${d.id}"><td class="mono">${d.id}</td><td>${d.type}</td><td>${d.cost}</td><td>${d.attempts}/${d.max_attempts}</td><td>${d.error ?? ""}</td><td>${when(d.finished_at)}</td>
<td><form method="post" action="/ops/dead-letters/${d.id}/retry"><button type="submit">Retry</button></form></td></tr>`,
  );
  return html`<section id="dead-letters"><h2>Dead letters</h2>
<p class="muted">Retry creates a new job with a new hold on the same account (refused when it cannot pay); each dead letter can be retried once.</p>
${rows.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>job</th><th>type</th><th>cost</th><th>attempts</th><th>last error</th><th>dead-lettered</th><th></th></tr></thead><tbody>${rows}</tbody></table>`}
</section>`;
}

function webhookFailures(data: ConsoleData): Html {
  const rows = data.webhookFailures.map(
    (
      w,
    ) => html`<tr data-webhook-failure="${w.event_id ?? w.id}"><td class="mono">${w.event_id ?? "(unreadable)"}</td><td>${w.event_type ?? ""}</td><td>${w.reason}${w.detail ? ` (${w.detail})` : ""}</td><td>${w.failures}</td><td>${when(w.last_failed_at)}</td>
<td>${w.event_id ? html`<form method="post" action="/ops/webhook-events/${w.event_id}/reprocess"><button type="submit">Reprocess</button></form>` : ""}</td></tr>`,
  );
  return html`<section id="webhooks"><h2>Failed webhooks</h2>
<p class="muted">Events still unprocessed after a failure on Tollgate's side. Reprocess fetches the event from Stripe and fulfils it once.</p>
${rows.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th>event</th><th>type</th><th>failure</th><th>times</th><th>last</th><th></th></tr></thead><tbody>${rows}</tbody></table>`}
</section>`;
}

export function consolePage(
  data: ConsoleData,
  config: Config,
  meta: { nonce: string; deployment: string; notice?: Notice },
): Html {
  const now = Date.now();
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tollgate ops</title><style nonce="${meta.nonce}">${trusted(STYLE)}</style></head><body>
<header><h1>Tollgate ops</h1><p>${meta.deployment} · ${when(new Date(now).toISOString())}</p>
<form method="post" action="/ops/logout"><button type="submit">Sign out</button></form></header>
${meta.notice ? html`<div class="notice ${meta.notice.kind}" role="status">${meta.notice.text}</div>` : ""}
${figures(data, config)}${charts(data, config, now)}${alerts(data)}${deadLetters(data)}${webhookFailures(data)}
</body></html>`;
}

export function signInPage(meta: { nonce: string; failed: boolean }): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tollgate ops: sign in</title>
<style nonce="${meta.nonce}">${trusted(STYLE)}</style></head><body>
<section><h1>Tollgate ops</h1>
${meta.failed ? html`<div class="notice error" role="alert">That token is not valid.</div>` : ""}
<p>Sign in with the admin token. It is exchanged at once for a console cookie (HttpOnly, SameSite=Strict, 12 hours) and removed from the address bar. Scripts can send <code>Authorization: Bearer &lt;ADMIN_TOKEN&gt;</code> instead.</p>
<form method="get" action="/ops"><label>Admin token <input type="password" name="token" autocomplete="off" required></label> <button type="submit">Sign in</button></form>
</section></body></html>`;
}
