import { type AlertStateView, toAlertState } from "./alerts/store.ts";
import { type DeadLetter, toDeadLetter } from "./dead-letters.ts";
import { type OpsDatabase, type OpsMetrics, toMetrics } from "./metrics.ts";
import { toWebhookFailure, type WebhookFailure } from "./webhook-events.ts";

/** One 5-minute bucket of the snapshots (the worst value of each figure in it). */
export type SnapshotPoint = {
  at: number;
  queue_depth: number;
  failed_jobs_1h: number;
  webhook_failures_1h: number;
  dead_letter_total: number;
  heartbeat_age_s: number | null;
};

export type NotificationView = {
  id: number;
  rule: string;
  event: "firing" | "resolved";
  summary: string;
  created_at: string;
  delivered_at: string | null;
  attempts: number;
  last_error: string | null;
};

export type ConsoleData = {
  metrics: OpsMetrics;
  series: SnapshotPoint[];
  alerts: AlertStateView[];
  notifications: NotificationView[];
  deadLetters: DeadLetter[];
  webhookFailures: WebhookFailure[];
};

type Row = Record<string, unknown>;
const list = (value: unknown) => (Array.isArray(value) ? (value as Row[]) : []);
const nullableNumber = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/** Everything the console shows, in one statement (`ops_console()`). */
export async function readConsole(database: OpsDatabase, limit = 50): Promise<ConsoleData> {
  const rows = (await database.sql.query("select * from ops_console($1)", [limit])) as Row[];
  const row = rows[0];
  if (!row) throw new Error("ops_console answered no row");
  return {
    metrics: toMetrics((row.metrics ?? {}) as Row),
    series: list(row.series).map((p) => ({
      at: Date.parse(String(p.at)),
      queue_depth: Number(p.queue_depth),
      failed_jobs_1h: Number(p.failed_jobs_1h),
      webhook_failures_1h: Number(p.webhook_failures_1h),
      dead_letter_total: Number(p.dead_letter_total),
      heartbeat_age_s: nullableNumber(p.heartbeat_age_s),
    })),
    alerts: list(row.alerts).map(toAlertState),
    notifications: list(row.notifications).map((n) => ({
      id: Number(n.id),
      rule: String(n.rule),
      event: n.event === "firing" ? "firing" : "resolved",
      summary: String(n.summary),
      created_at: String(n.created_at),
      delivered_at: (n.delivered_at as string | null) ?? null,
      attempts: Number(n.attempts),
      last_error: (n.last_error as string | null) ?? null,
    })),
    deadLetters: list(row.dead_letters).map(toDeadLetter),
    webhookFailures: list(row.webhook_failures).map((w) => toWebhookFailure({ ...w })),
  };
}
