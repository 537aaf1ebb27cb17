import { createRouter } from "../../lib/router.ts";
import * as getMetrics from "./get-metrics.ts";
import * as listAlerts from "./list-alerts.ts";
import * as listDeadLetters from "./list-dead-letters.ts";
import * as listWebhookFailures from "./list-webhook-failures.ts";
import * as reprocessWebhookEvent from "./reprocess-webhook-event.ts";
import * as retryDeadLetter from "./retry-dead-letter.ts";

/** Operator endpoints. The app guards every /api/ops/* path with adminAuth() before these run. */
export const opsRoutes = createRouter()
  .openapi(getMetrics.route, getMetrics.handler)
  .openapi(listAlerts.route, listAlerts.handler)
  .openapi(listDeadLetters.route, listDeadLetters.handler)
  .openapi(retryDeadLetter.route, retryDeadLetter.handler)
  .openapi(listWebhookFailures.route, listWebhookFailures.handler)
  .openapi(reprocessWebhookEvent.route, reprocessWebhookEvent.handler);
