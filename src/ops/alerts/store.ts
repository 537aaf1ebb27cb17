import type { AlertEvent } from "../../db/schema/alert-state.ts";
import type { OpsDatabase } from "../metrics.ts";
import type { DeliveryResult, DueNotification } from "./notify.ts";
import type { AlertEvaluation } from "./rules.ts";

type Row = Record<string, unknown>;

const numberOrNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));

/**
 * Records one evaluation of every rule and leases the notifications due, in one statement
 * (`record_alert_evaluations()`): the transition and its notification are claimed atomically there.
 */
export async function recordEvaluations(
  database: OpsDatabase,
  evaluations: AlertEvaluation[],
  cooldownSeconds: number,
  leaseSeconds: number,
): Promise<DueNotification[]> {
  const rows = (await database.sql.query(
    `select id, rule, event, value, threshold, summary, created_at, attempts
     from record_alert_evaluations($1::jsonb, $2, $3)`,
    [JSON.stringify(evaluations), cooldownSeconds, leaseSeconds],
  )) as Row[];
  return rows
    .map((row) => ({
      id: Number(row.id),
      rule: String(row.rule),
      event: row.event as AlertEvent,
      value: numberOrNull(row.value),
      threshold: numberOrNull(row.threshold),
      summary: String(row.summary),
      createdAt: new Date(row.created_at as string).toISOString(),
      attempts: Number(row.attempts),
    }))
    .sort((a, b) => a.id - b.id);
}

/** Marks delivered notifications done and releases the others for the next tick, in one statement. */
export async function finishDeliveries(database: OpsDatabase, results: DeliveryResult[]) {
  if (results.length === 0) return;
  await database.sql.query("select id from finish_alert_deliveries($1::jsonb)", [JSON.stringify(results)]);
}

export type AlertStateView = {
  rule: string;
  status: "ok" | "firing";
  value: number | null;
  threshold: number | null;
  summary: string | null;
  changed_at: string | null;
  evaluated_at: string;
};

const iso = (value: unknown) =>
  value === null || value === undefined ? null : new Date(value as string).toISOString();

export function toAlertState(row: Row): AlertStateView {
  return {
    rule: String(row.rule),
    status: row.status === "firing" ? "firing" : "ok",
    value: numberOrNull(row.value),
    threshold: numberOrNull(row.threshold),
    summary: (row.summary as string | null) ?? null,
    changed_at: iso(row.changed_at),
    evaluated_at: iso(row.evaluated_at) ?? "",
  };
}

/** The state of every rule, firing first. */
export async function listAlertStates(database: OpsDatabase): Promise<AlertStateView[]> {
  const rows = (await database.sql.query(
    "select * from alert_state order by (status = 'firing') desc, rule",
  )) as Row[];
  return rows.map(toAlertState);
}
