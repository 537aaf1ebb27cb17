import { createRouter } from "../../lib/router";
import * as getMetrics from "./get-metrics";
import * as listAlerts from "./list-alerts";
import * as listDeadLetters from "./list-dead-letters";
import * as listWebhookFailures from "./list-webhook-failures";
import * as reprocessWebhookEvent from "./reprocess-webhook-event";
import * as retryDeadLetter from "./retry-dead-letter";

/** Operator endpoints. The app guards every /api/ops/* path with adminAuth() before these run. */
export const opsRoutes = createRouter()
  .openapi(getMetrics.route, getMetrics.handler)
  .openapi(listAlerts.route, listAlerts.handler)
  .openapi(listDeadLetters.route, listDeadLetters.handler)
  .openapi(retryDeadLetter.route, retryDeadLetter.handler)
  .openapi(listWebhookFailures.route, listWebhookFailures.handler)
  .openapi(reprocessWebhookEvent.route, reprocessWebhookEvent.handler);
