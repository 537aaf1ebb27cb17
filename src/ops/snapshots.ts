import { z } from "zod";
import { sqlFunction } from "../db/call.ts";
import { int64, isoTimestamp } from "../db/columns.ts";
import type { Services } from "../services.ts";

/** Snapshots, heartbeats and delivered alert notifications are kept this long. */
export const SNAPSHOT_RETENTION_DAYS = 30;

export type SnapshotOutcome = { minute: string; taken: boolean; pruned: number };

const takeMetricSnapshot = sqlFunction(
  "take_metric_snapshot",
  { retentionDays: "integer" },
  z.object({ minute: isoTimestamp, taken: z.boolean(), pruned: int64 }),
);

/**
 * The every-minute metrics snapshot: queue depth, running jobs, dead letters, failures and heartbeat
 * age for this minute, plus pruning past the retention, in one statement (`take_metric_snapshot()`).
 * Idempotent per minute: a second cron in the same minute writes nothing.
 */
export function takeSnapshot(
  { database }: Pick<Services, "database">,
  options: { retentionDays?: number } = {},
): Promise<SnapshotOutcome> {
  return takeMetricSnapshot.one(database, {
    retentionDays: options.retentionDays ?? SNAPSHOT_RETENTION_DAYS,
  });
}
