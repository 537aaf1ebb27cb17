import type { OpsMetrics } from "./metrics.ts";

/** What a Prometheus scraper is told it gets (text exposition format 0.0.4). */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Family = {
  name: string;
  help: string;
  samples: { labels?: Record<string, string>; value: number | null }[];
};

/** Prometheus text: NaN for "unknown" (no heartbeat yet), integers without a decimal point. */
function formatValue(value: number | null): string {
  if (value === null || Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function families(m: OpsMetrics): Family[] {
  const gauge = (name: string, help: string, value: number | null): Family => ({
    name,
    help,
    samples: [{ value }],
  });
  return [
    gauge(
      "tollgate_worker_heartbeat_age_seconds",
      "Seconds since the jobs consumer recorded a heartbeat sent through the queue (NaN: never).",
      m.worker_heartbeat_age_s,
    ),
    gauge(
      "tollgate_webhook_failures_1h",
      "Stripe webhook deliveries that failed or were rejected in the last hour.",
      m.webhook_failures_1h,
    ),
    gauge(
      "tollgate_failed_jobs_1h",
      "Jobs that ended failed or dead_lettered in the last hour.",
      m.failed_jobs_1h,
    ),
    gauge("tollgate_queue_depth", "Jobs queued and not yet claimed.", m.queue_depth),
    gauge("tollgate_queue_growth_1h", "Change of the queue depth over the last hour.", m.queue_growth_1h),
    gauge(
      "tollgate_dead_letters",
      "Jobs in the dead_lettered state (dead_letter_total).",
      m.dead_letter_total,
    ),
    gauge("tollgate_dead_letter_growth_1h", "New dead letters in the last hour.", m.dead_letter_growth_1h),
    {
      name: "tollgate_jobs",
      help: "Jobs by status.",
      samples: Object.entries(m.jobs_by_status).map(([status, value]) => ({ labels: { status }, value })),
    },
    gauge(
      "tollgate_reconcile_repairs_24h",
      "Top-ups reconciliation had to repair in the last 24 hours.",
      m.reconcile_repairs_24h,
    ),
    gauge("tollgate_ledger_ok", "1 when every ledger invariant holds, else 0.", m.ledger_ok ? 1 : 0),
  ];
}

/**
 * The same figures as the JSON body, in the Prometheus text exposition format: one `# HELP` and one
 * `# TYPE` line per family, then its samples; every family a gauge (they are levels or windows, not
 * counters, so none ends in `_total`).
 */
export function toPrometheus(metrics: OpsMetrics): string {
  const lines: string[] = [];
  for (const family of families(metrics)) {
    lines.push(`# HELP ${family.name} ${family.help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n")}`);
    lines.push(`# TYPE ${family.name} gauge`);
    for (const sample of family.samples) {
      const labels = sample.labels
        ? `{${Object.entries(sample.labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(",")}}`
        : "";
      lines.push(`${family.name}${labels} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Prometheus asks for text/plain or OpenMetrics and never for JSON; a JSON client never asks for text. */
export function wantsPrometheus(accept: string | undefined): boolean {
  if (!accept) return false;
  const types = accept.split(",").map((part) => part.split(";")[0]?.trim().toLowerCase());
  const text = types.some((t) => t === "text/plain" || t === "application/openmetrics-text");
  return text && !types.includes("application/json");
}
