import type { Services } from "../../services.ts";
import { logEvent } from "../../telemetry/log.ts";
import { deploymentName } from "../../telemetry/release.ts";
import { captureAlert } from "../../telemetry/sentry.ts";
import { readMetrics } from "../metrics.ts";
import { type DeliveryResult, type DueNotification, postNotification } from "./notify.ts";
import { evaluateRules } from "./rules.ts";
import { finishDeliveries, recordEvaluations } from "./store.ts";

/** Shorter than the one-minute tick: a tick that died mid-delivery leaves its notifications to the next. */
export const DELIVERY_LEASE_SECONDS = 50;

export type AlertRunOptions = { now?: Date };

/** `breached`: rules over their threshold now (their state follows once the cooldown allows). */
export type AlertRun = { breached: string[]; delivered: number[]; failed: DeliveryResult[] };

/**
 * Delivers leased notifications in id order. A rule whose earlier notification failed keeps its later
 * ones back, so a receiver never sees "resolved" before the "firing" it resolves.
 */
async function deliver({ env, config }: Services, due: DueNotification[]): Promise<DeliveryResult[]> {
  const deployment = deploymentName(env, config);
  const blocked = new Set<string>();
  const results: DeliveryResult[] = [];
  for (const notification of due) {
    if (blocked.has(notification.rule)) {
      results.push({ id: notification.id, delivered: false, error: "waiting_for_earlier" });
      continue;
    }
    // Sentry gets each notification once: on its first attempt, whatever the webhook does.
    if (notification.attempts === 1) captureAlert(env, notification);
    const url = config.MONITOR_ALERT_WEBHOOK_URL;
    const result = url
      ? await postNotification(url, notification, deployment)
      : { id: notification.id, delivered: true };
    logEvent("ops.alert", {
      rule: notification.rule,
      alert_event: notification.event,
      summary: notification.summary,
      attempt: notification.attempts,
      channel: url ? "webhook" : "log",
      delivered: result.delivered,
      error: result.error,
    });
    if (!result.delivered) blocked.add(notification.rule);
    results.push(result);
  }
  return results;
}

/**
 * The every-minute alert evaluation (docs/ARCHITECTURE.md, Operations): reads the metrics, evaluates every
 * rule, records the transitions (each firing and each recovery once, with the cooldown) and delivers what is
 * due to MONITOR_ALERT_WEBHOOK_URL and Sentry. A failing webhook never fails the tick: the notification stays
 * undelivered and the next tick retries it. Three statements at most.
 */
export async function runAlerts(services: Services, options: AlertRunOptions = {}): Promise<AlertRun> {
  const { config, database } = services;
  const metrics = await readMetrics(database);
  const evaluations = evaluateRules(metrics, config, options.now ?? new Date());
  const due = await recordEvaluations(database, evaluations, config.ALERT_COOLDOWN_S, DELIVERY_LEASE_SECONDS);
  const results = await deliver(services, due);
  await finishDeliveries(database, results);
  return {
    breached: evaluations.filter((e) => e.breached).map((e) => e.rule),
    delivered: results.filter((r) => r.delivered).map((r) => r.id),
    failed: results.filter((r) => !r.delivered),
  };
}
