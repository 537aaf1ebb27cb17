import type { AlertEvent } from "../../db/schema/alert-state.ts";
import { ruleTitle } from "./rules.ts";

/** A notification as record_alert_evaluations() leases it. */
export type DueNotification = {
  id: number;
  rule: string;
  event: AlertEvent;
  value: number | null;
  threshold: number | null;
  summary: string;
  createdAt: string;
  attempts: number;
};

export type DeliveryResult = { id: number; delivered: boolean; error?: string };

/** A slow webhook must not eat the cron's time budget; the next tick retries. */
const DELIVERY_TIMEOUT_MS = 5000;

/** Slack-compatible: `text` for every receiver, `blocks` for Slack's richer rendering. */
export function slackPayload(n: DueNotification, deployment: string) {
  const icon = n.event === "firing" ? ":rotating_light:" : ":white_check_mark:";
  const verb = n.event === "firing" ? "FIRING" : "RESOLVED";
  const text = `${icon} [${verb}] ${ruleTitle(n.rule)} — ${n.summary} (${deployment})`;
  return {
    text,
    blocks: [
      {
        type: "section",
        text: { type: "mrkdwn", text: `${icon} *${verb}: ${ruleTitle(n.rule)}*\n${n.summary}` },
      },
      {
        type: "context",
        elements: [{ type: "mrkdwn", text: `rule \`${n.rule}\` · ${deployment} · since ${n.createdAt}` }],
      },
    ],
  };
}

/**
 * Posts one notification. Never throws: the answer says whether it was delivered (a 2xx) and, if not,
 * why, as a status or error class only. Neither the URL (it is a secret: the token is in the path) nor
 * the receiver's body is ever returned or logged.
 */
export async function postNotification(
  url: string,
  notification: DueNotification,
  deployment: string,
): Promise<DeliveryResult> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(slackPayload(notification, deployment)),
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (response.ok) return { id: notification.id, delivered: true };
    return { id: notification.id, delivered: false, error: `http_${response.status}` };
  } catch (error) {
    const name = error instanceof Error ? error.name : typeof error;
    return { id: notification.id, delivered: false, error: name };
  }
}
