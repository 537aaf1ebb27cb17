import type { Context } from "hono";
import { logEvent } from "./log.ts";
import { scrubText, secretValues } from "./scrub.ts";
import { captureServerError } from "./sentry.ts";

/**
 * Reports an unexpected error: one log line (the error's class, scrubbed message and the request id) and,
 * when SENTRY_DSN is set, one Sentry event carrying the request id. Callers report 5xx and unknown errors
 * only; Sentry's side drops anything that stands for a 4xx as well.
 */
export function reportError(c: Context, error: unknown) {
  const err = error instanceof Error ? error : new Error(String(error));
  const requestId = c.get("requestId") as string | undefined;
  logEvent("error", {
    request_id: requestId,
    route: c.req.routePath,
    error: err.name,
    // Driver and library messages can quote values: the same scrubbing as Sentry events get.
    message: scrubText(err.message, secretValues(c.env)),
  });
  captureServerError(c.env, error, { requestId, route: c.req.routePath, method: c.req.method });
}
