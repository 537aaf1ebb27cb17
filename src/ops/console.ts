import { z } from "zod";
import { WebhookFailure } from "../billing/webhook-failures.ts";
import { sqlFunction } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { DeadLetter } from "../jobs/dead-letters.ts";
import { AlertState } from "./alerts/store.ts";
import { OpsMetrics } from "./metrics.ts";

const number = z.union([z.number(), z.string()]).transform(Number);

/** One 5-minute bucket of the snapshots (the worst value of each figure in it). */
const SnapshotPoint = z.object({
  at: z.string().transform((at) => Date.parse(at)),
  queue_depth: number,
  failed_jobs_1h: number,
  webhook_failures_1h: number,
  dead_letter_total: number,
  heartbeat_age_s: number.nullable(),
});
export type SnapshotPoint = z.output<typeof SnapshotPoint>;

const Notification = z.object({
  id: number,
  rule: z.string(),
  event: z.enum(["firing", "resolved"]).catch("resolved"),
  summary: z.string(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  attempts: number,
  last_error: z.string().nullable(),
});
export type NotificationView = z.output<typeof Notification>;

const ConsoleRow = z.object({
  metrics: OpsMetrics,
  series: z.array(SnapshotPoint),
  alerts: z.array(AlertState),
  notifications: z.array(Notification),
  dead_letters: z.array(DeadLetter),
  webhook_failures: z.array(WebhookFailure),
});
export type ConsoleData = {
  metrics: OpsMetrics;
  series: SnapshotPoint[];
  alerts: z.output<typeof AlertState>[];
  notifications: NotificationView[];
  deadLetters: DeadLetter[];
  webhookFailures: WebhookFailure[];
};

const opsConsole = sqlFunction("ops_console", { limit: "integer" }, ConsoleRow);

/** Everything the console shows, in one statement (`ops_console()`). */
export async function readConsole(database: SqlClient, limit = 50): Promise<ConsoleData> {
  const row = await opsConsole.one(database, { limit });
  return {
    metrics: row.metrics,
    series: row.series,
    alerts: row.alerts,
    notifications: row.notifications,
    deadLetters: row.dead_letters,
    webhookFailures: row.webhook_failures,
  };
}
