import type { Config } from "../config/index.ts";
import { createDatabase } from "../db/client.ts";
import type { OpsDatabase } from "./metrics.ts";

/** Snapshots, heartbeats and delivered alert notifications are kept this long. */
export const SNAPSHOT_RETENTION_DAYS = 30;

export type SnapshotOutcome = { minute: string; taken: boolean; pruned: number };

/**
 * The every-minute metrics snapshot: queue depth, running jobs, dead letters, failures and heartbeat
 * age for this minute, plus pruning past the retention, in one statement (`take_metric_snapshot()`).
 * Idempotent per minute: a second cron in the same minute writes nothing.
 */
export async function takeSnapshot(
  _env: Env,
  config: Config,
  options: { database?: OpsDatabase; retentionDays?: number } = {},
): Promise<SnapshotOutcome> {
  const database = options.database ?? createDatabase(config.DATABASE_URL, config.LOCAL_NEON_URL);
  const rows = (await database.sql.query("select minute, taken, pruned from take_metric_snapshot($1)", [
    options.retentionDays ?? SNAPSHOT_RETENTION_DAYS,
  ])) as { minute: string | Date; taken: boolean; pruned: string | number }[];
  const row = rows[0];
  if (!row) throw new Error("take_metric_snapshot answered no row");
  return { minute: new Date(row.minute).toISOString(), taken: row.taken, pruned: Number(row.pruned) };
}
