import { z } from "zod";
import { sqlFunction } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { JOB_STATUSES, type JobStatus } from "../db/schema/jobs.ts";

/** A count as Postgres answers it (bigint text, or a JSON number inside ops_console()); none is 0. */
const count = z
  .union([z.number(), z.string(), z.null(), z.undefined()])
  .transform((value) => (value === null || value === undefined ? 0 : Number(value)));

/**
 * The figures of `GET /api/ops/metrics`, as `ops_metrics()` computes them, whether they come back as
 * columns or as JSON inside `ops_console()`.
 */
export const OpsMetrics = z.object({
  /** Seconds since the jobs consumer last recorded a heartbeat; null when it never has. */
  worker_heartbeat_age_s: z
    .number()
    .nullish()
    .transform((age) => (age === null || age === undefined ? null : Math.round(age * 10) / 10)),
  webhook_failures_1h: count,
  failed_jobs_1h: count,
  queue_depth: count,
  queue_growth_1h: count,
  dead_letter_total: count,
  dead_letter_growth_1h: count,
  jobs_by_status: z
    .record(z.string(), count)
    .nullish()
    .transform(
      (byStatus) =>
        Object.fromEntries(JOB_STATUSES.map((s) => [s, byStatus?.[s] ?? 0])) as Record<JobStatus, number>,
    ),
  reconcile_repairs_24h: count,
  ledger_ok: z
    .boolean()
    .nullish()
    .transform((ok) => ok === true),
  /** The snapshot the growth figures are measured from (null: no snapshot yet, growth 0). */
  growth_since: z
    .union([z.date(), z.string()])
    .nullish()
    .transform((at) => (at === null || at === undefined ? null : new Date(at).toISOString())),
});
export type OpsMetrics = z.output<typeof OpsMetrics>;

const opsMetrics = sqlFunction("ops_metrics", {}, OpsMetrics);

/** Every figure in one statement (one round trip): the `ops_metrics()` function. */
export function readMetrics(database: SqlClient): Promise<OpsMetrics> {
  return opsMetrics.one(database, {});
}
