import type { Config } from "../../config/index.ts";
import type { OpsMetrics } from "../metrics.ts";

/** One alert rule: what it watches, its threshold from config, and when it is breached. */
export type AlertRule = {
  /** Stable id, stored in `alert_state.rule`. */
  name: string;
  title: string;
  /** The field of `GET /api/ops/metrics` the rule watches. */
  metric: keyof OpsMetrics;
  /** The figure the rule watches (null: not known yet). */
  value: (m: OpsMetrics) => number | null;
  /** From config (null: the rule has none, e.g. ledger drift). */
  threshold: (c: Config) => number | null;
  breached: (m: OpsMetrics, threshold: number | null, now: Date) => boolean;
  unit: string;
  /** A wording of its own, where "value unit (threshold)" reads badly. */
  describe?: (value: number | null, threshold: number | null, breached: boolean) => string;
};

export type AlertEvaluation = {
  rule: string;
  breached: boolean;
  value: number | null;
  threshold: number | null;
  summary: string;
};

const atLeast =
  (pick: (m: OpsMetrics) => number) =>
  (m: OpsMetrics, threshold: number | null): boolean =>
    threshold !== null && pick(m) >= threshold;

/**
 * A heartbeat that is old, or missing although the cron has been snapshotting for longer than the
 * threshold (so a consumer that never started is caught too, but a fresh deployment is not).
 */
function heartbeatStale(m: OpsMetrics, threshold: number | null, now: Date): boolean {
  if (threshold === null) return false;
  if (m.worker_heartbeat_age_s !== null) return m.worker_heartbeat_age_s > threshold;
  if (m.growth_since === null) return false;
  return (now.getTime() - Date.parse(m.growth_since)) / 1000 > threshold;
}

/** The checklist's "Monitoring and Alerts" rules plus ledger drift and reconciliation repairs. */
export const ALERT_RULES: readonly AlertRule[] = [
  {
    name: "webhook_failures",
    title: "Stripe webhook failures",
    metric: "webhook_failures_1h",
    value: (m) => m.webhook_failures_1h,
    threshold: (c) => c.ALERT_WEBHOOK_FAILURES_1H,
    breached: atLeast((m) => m.webhook_failures_1h),
    unit: "in the last hour",
  },
  {
    name: "failed_jobs",
    title: "Failed jobs",
    metric: "failed_jobs_1h",
    value: (m) => m.failed_jobs_1h,
    threshold: (c) => c.ALERT_FAILED_JOBS_1H,
    breached: atLeast((m) => m.failed_jobs_1h),
    unit: "in the last hour",
  },
  {
    name: "worker_heartbeat",
    title: "Worker heartbeat",
    metric: "worker_heartbeat_age_s",
    value: (m) => m.worker_heartbeat_age_s,
    threshold: (c) => c.HEARTBEAT_STALE_AFTER_S,
    breached: heartbeatStale,
    unit: "seconds old",
    describe: (value, threshold, breached) => {
      const age = value === null ? "no heartbeat recorded yet" : `last heartbeat ${value} seconds ago`;
      return `Worker heartbeat ${breached ? "stale" : "fresh"}: ${age} (threshold ${threshold} s)${breached ? "" : " — back to normal"}`;
    },
  },
  {
    name: "queue_growth",
    title: "Queue growing",
    metric: "queue_growth_1h",
    value: (m) => m.queue_growth_1h,
    threshold: (c) => c.ALERT_QUEUE_GROWTH_1H,
    breached: atLeast((m) => m.queue_growth_1h),
    unit: "more queued jobs than an hour ago",
  },
  {
    name: "dead_letter_growth",
    title: "New dead letters",
    metric: "dead_letter_growth_1h",
    value: (m) => m.dead_letter_growth_1h,
    threshold: (c) => c.ALERT_DEAD_LETTER_GROWTH_1H,
    breached: atLeast((m) => m.dead_letter_growth_1h),
    unit: "in the last hour",
  },
  {
    name: "ledger_drift",
    title: "Ledger invariants broken",
    metric: "ledger_ok",
    value: (m) => (m.ledger_ok ? 0 : 1),
    threshold: () => null,
    breached: (m) => !m.ledger_ok,
    unit: "",
    describe: (_value, _threshold, breached) =>
      breached
        ? "Ledger invariants broken: ledger_check() reports a failed invariant; stop and investigate"
        : "Ledger invariants broken: ledger_check() passes again — back to normal",
  },
  {
    name: "reconcile_repairs",
    title: "Reconciliation repaired top-ups",
    metric: "reconcile_repairs_24h",
    value: (m) => m.reconcile_repairs_24h,
    threshold: (c) => c.ALERT_RECONCILE_REPAIRS_24H,
    breached: atLeast((m) => m.reconcile_repairs_24h),
    unit: "in the last 24 hours",
  },
];

export function ruleTitle(name: string): string {
  return ALERT_RULES.find((r) => r.name === name)?.title ?? name;
}

function describe(
  rule: AlertRule,
  value: number | null,
  threshold: number | null,
  breached: boolean,
): string {
  if (rule.describe) return rule.describe(value, threshold, breached);
  const shown = value === null ? "unknown" : String(value);
  const limit = threshold === null ? "" : ` (threshold ${threshold})`;
  return `${rule.title}: ${shown} ${rule.unit}${limit}${breached ? "" : " — back to normal"}`;
}

/** Evaluates every rule against one reading of the metrics. Pure: no I/O, no clock but `now`. */
export function evaluateRules(
  metrics: OpsMetrics,
  config: Config,
  now: Date = new Date(),
  rules: readonly AlertRule[] = ALERT_RULES,
): AlertEvaluation[] {
  return rules.map((rule) => {
    const threshold = rule.threshold(config);
    const value = rule.value(metrics);
    const breached = rule.breached(metrics, threshold, now);
    return {
      rule: rule.name,
      breached,
      value,
      threshold,
      summary: describe(rule, value, threshold, breached),
    };
  });
}
