import { z } from "@hono/zod-openapi";
import { STRIPE_EVENT_ID } from "../../billing/webhook.ts";
import { JOB_STATUSES } from "../../db/schema/jobs.ts";

const count = (description: string, example: number) => z.number().int().openapi({ description, example });

export const MetricsSchema = z
  .object({
    worker_heartbeat_age_s: z.number().nullable().openapi({
      description:
        "Seconds since the jobs consumer recorded a heartbeat sent through the queue by the cron (null: never).",
      example: 42.5,
    }),
    webhook_failures_1h: count(
      "Webhook deliveries that failed on Tollgate's side or were rejected, last hour.",
      0,
    ),
    failed_jobs_1h: count("Jobs that ended failed or dead_lettered in the last hour.", 1),
    queue_depth: count("Jobs queued and not yet claimed.", 3),
    queue_growth_1h: count("Change of queue_depth over the last hour (from the per-minute snapshots).", 2),
    dead_letter_total: count("Jobs in the dead_lettered state.", 4),
    dead_letter_growth_1h: count("New dead letters in the last hour.", 1),
    jobs_by_status: z.record(z.enum(JOB_STATUSES), z.number().int()).openapi({
      example: {
        queued: 3,
        running: 1,
        succeeded: 120,
        failed: 2,
        dead_lettered: 4,
        canceled: 0,
        expired: 0,
      },
    }),
    reconcile_repairs_24h: count("Top-ups reconciliation had to make in the last 24 hours.", 0),
    ledger_ok: z
      .boolean()
      .openapi({ description: "Every ledger invariant holds (ledger_check()).", example: true }),
    growth_since: z.string().nullable().openapi({
      description: "The snapshot the growth figures are measured from (null: none yet, growth 0).",
      example: "2026-11-28T11:00:00.000Z",
    }),
    request_id: z.string().openapi({ example: "req_4f1c2b0e9d8a4b7c8e6f5a4b3c2d1e0f" }),
  })
  .openapi("OpsMetrics");

export const AlertStateSchema = z
  .object({
    rule: z.string().openapi({ example: "worker_heartbeat" }),
    status: z.enum(["ok", "firing"]),
    value: z.number().nullable(),
    threshold: z.number().nullable(),
    summary: z.string().nullable(),
    changed_at: z.string().nullable(),
    evaluated_at: z.string(),
  })
  .openapi("AlertState");

export const DeadLetterSchema = z
  .object({
    id: z.string(),
    account_id: z.string(),
    type: z.string(),
    cost: z.number().int(),
    attempts: z.number().int(),
    max_attempts: z.number().int(),
    error: z.string().nullable(),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi("DeadLetter");

export const WebhookFailureSchema = z
  .object({
    id: z.number().int(),
    event_id: z.string().nullable(),
    event_type: z.string().nullable(),
    reason: z.string(),
    detail: z.string().nullable(),
    failures: z.number().int(),
    last_failed_at: z.string(),
  })
  .openapi("WebhookFailure");

export const UuidParams = z.object({
  id: z
    .uuid()
    .openapi({ param: { name: "id", in: "path" }, example: "0b7e6f3a-52c1-4d8e-9f10-3a2b1c4d5e6f" }),
});

export const EventIdParams = z.object({
  id: z
    .string()
    .regex(STRIPE_EVENT_ID)
    .openapi({ param: { name: "id", in: "path" }, example: "evt_1QxYzAbCdEfGhIjK" }),
});
