import { z } from "zod";
import { sqlFunction, sqlQuery } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";
import { int64, isoTimestamp } from "../db/columns.ts";
import { logEvent } from "../telemetry/log.ts";

/** A failed delivery whose event is still unprocessed, as operators see it. */
export const WebhookFailure = z.object({
  id: int64,
  event_id: z.string().nullable(),
  event_type: z.string().nullable(),
  reason: z.string(),
  detail: z.string().nullable(),
  failures: int64,
  last_failed_at: isoTimestamp,
});
export type WebhookFailure = z.output<typeof WebhookFailure>;

const opsWebhookFailures = sqlFunction("ops_webhook_failures", { limit: "integer" }, WebhookFailure);

/** Failed deliveries whose event is still unprocessed, one per event (`ops_webhook_failures()`). */
export function listWebhookFailures(database: SqlClient, limit = 50): Promise<WebhookFailure[]> {
  return opsWebhookFailures(database, { limit });
}

/** A Postgres error code or the error's class: enough to triage, never a message quoting values. */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string" && code.length > 0) return code;
  return error instanceof Error ? error.name : typeof error;
}

/**
 * Counts a delivery the database failed (for `webhook_failures_1h`), in a statement of its own since
 * the main one just failed. Best-effort: when the database is unreachable this fails too, and the log
 * line is all that is left; it never throws, so the caller's 5xx is what Stripe sees.
 */
export async function recordWebhookFailure(
  database: SqlClient,
  failure: { eventId: string | null; eventType: string | null; reason: string; detail: string | null },
): Promise<boolean> {
  try {
    await sqlQuery(
      database,
      "recordWebhookFailure",
      "insert into webhook_failures (event_id, event_type, reason, detail) values ($1, $2, $3, $4)",
      [failure.eventId, failure.eventType, failure.reason, failure.detail],
      z.unknown(),
    );
    return true;
  } catch (error) {
    logEvent("billing.webhook_failure_unrecorded", {
      event_id: failure.eventId,
      reason: failure.reason,
      error: errorCode(error),
    });
    return false;
  }
}
