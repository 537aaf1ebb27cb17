import type { Database } from "../db/client.ts";
import { JOB_STATUSES, type JobStatus } from "../db/schema/jobs.ts";

/** Ops code only needs the raw Neon client: every call here is exactly one statement. */
export type OpsDatabase = Pick<Database, "sql">;

/** The figures of `GET /api/ops/metrics` (DESIGN §8), as `ops_metrics()` computes them. */
export type OpsMetrics = {
  /** Seconds since the jobs consumer last recorded a heartbeat; null when it never has. */
  worker_heartbeat_age_s: number | null;
  webhook_failures_1h: number;
  failed_jobs_1h: number;
  queue_depth: number;
  queue_growth_1h: number;
  dead_letter_total: number;
  dead_letter_growth_1h: number;
  jobs_by_status: Record<JobStatus, number>;
  reconcile_repairs_24h: number;
  ledger_ok: boolean;
  /** The snapshot the growth figures are measured from (null: no snapshot yet, growth 0). */
  growth_since: string | null;
};

type Row = Record<string, unknown>;

const count = (value: unknown) => (value === null || value === undefined ? 0 : Number(value));

function isoOrNull(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return new Date(value as string | Date).toISOString();
}

/**
 * Normalises a row of `ops_metrics()`, whether it came back as columns (bigints as strings) or as
 * JSON inside `ops_console()`.
 */
export function toMetrics(row: Row): OpsMetrics {
  const byStatus = (row.jobs_by_status ?? {}) as Record<string, unknown>;
  const age = row.worker_heartbeat_age_s;
  return {
    worker_heartbeat_age_s: age === null || age === undefined ? null : Math.round(Number(age) * 10) / 10,
    webhook_failures_1h: count(row.webhook_failures_1h),
    failed_jobs_1h: count(row.failed_jobs_1h),
    queue_depth: count(row.queue_depth),
    queue_growth_1h: count(row.queue_growth_1h),
    dead_letter_total: count(row.dead_letter_total),
    dead_letter_growth_1h: count(row.dead_letter_growth_1h),
    jobs_by_status: Object.fromEntries(JOB_STATUSES.map((s) => [s, count(byStatus[s])])) as Record<
      JobStatus,
      number
    >,
    reconcile_repairs_24h: count(row.reconcile_repairs_24h),
    ledger_ok: row.ledger_ok === true,
    growth_since: isoOrNull(row.growth_since),
  };
}

/** Every figure in one statement (one round trip): the `ops_metrics()` function. */
export async function readMetrics(database: OpsDatabase): Promise<OpsMetrics> {
  const rows = (await database.sql.query("select * from ops_metrics()")) as Row[];
  const row = rows[0];
  if (!row) throw new Error("ops_metrics answered no row");
  return toMetrics(row);
}
