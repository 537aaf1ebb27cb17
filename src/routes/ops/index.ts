import { createRouter } from "../router.ts";
import * as alerts from "./alerts.ts";
import * as listDeadLetters from "./dead-letters/list.ts";
import * as retryDeadLetter from "./dead-letters/retry.ts";
import * as metrics from "./metrics.ts";
import * as reconcile from "./reconcile.ts";
import * as reprocessWebhookEvent from "./webhook-events/reprocess.ts";
import * as webhookFailures from "./webhook-failures.ts";

/** Operator endpoints. The app guards every /api/ops/* path with the admin token before these run. */
export const opsRoutes = createRouter()
  .openapi(metrics.route, metrics.handler)
  .openapi(alerts.route, alerts.handler)
  .openapi(listDeadLetters.route, listDeadLetters.handler)
  .openapi(retryDeadLetter.route, retryDeadLetter.handler)
  .openapi(webhookFailures.route, webhookFailures.handler)
  .openapi(reprocessWebhookEvent.route, reprocessWebhookEvent.handler)
  .openapi(reconcile.route, reconcile.handler);
