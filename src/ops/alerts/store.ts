import { z } from "zod";
import { sqlFunction, sqlQuery } from "../../db/call.ts";
import type { SqlClient } from "../../db/client.ts";
import { int64, isoTimestamp } from "../../db/columns.ts";
import type { DeliveryResult, DueNotification } from "./notify.ts";
import type { AlertEvaluation } from "./rules.ts";

const recordAlertEvaluations = sqlFunction(
  "record_alert_evaluations",
  { evaluations: "jsonb", cooldownSeconds: "integer", leaseSeconds: "integer" },
  z.object({
    id: int64,
    rule: z.string(),
    event: z.enum(["firing", "resolved"]),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    summary: z.string(),
    created_at: isoTimestamp,
    attempts: z.number().int(),
  }),
);

/**
 * Records one evaluation of every rule and leases the notifications due, in one statement
 * (`record_alert_evaluations()`): the transition and its notification are claimed atomically there.
 */
export async function recordEvaluations(
  database: SqlClient,
  evaluations: AlertEvaluation[],
  cooldownSeconds: number,
  leaseSeconds: number,
): Promise<DueNotification[]> {
  const rows = await recordAlertEvaluations(database, { evaluations, cooldownSeconds, leaseSeconds });
  return rows
    .map(({ created_at, ...row }) => ({ ...row, createdAt: created_at }))
    .sort((a, b) => a.id - b.id);
}

const finishAlertDeliveries = sqlFunction(
  "finish_alert_deliveries",
  { results: "jsonb" },
  z.object({ id: int64, delivered: z.boolean() }),
);

/** Marks delivered notifications done and releases the others for the next tick, in one statement. */
export async function finishDeliveries(database: SqlClient, results: DeliveryResult[]) {
  if (results.length === 0) return;
  await finishAlertDeliveries(database, { results });
}

export const AlertState = z.object({
  rule: z.string(),
  status: z.enum(["ok", "firing"]).catch("ok"),
  value: z.number().nullable(),
  threshold: z.number().nullable(),
  summary: z.string().nullable(),
  changed_at: isoTimestamp.nullable(),
  evaluated_at: isoTimestamp,
});
export type AlertStateView = z.output<typeof AlertState>;

/** The state of every rule, firing first. */
export function listAlertStates(database: SqlClient): Promise<AlertStateView[]> {
  return sqlQuery(
    database,
    "listAlertStates",
    "select * from alert_state order by (status = 'firing') desc, rule",
    [],
    AlertState,
  );
}
