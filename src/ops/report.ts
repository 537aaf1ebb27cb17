import type { Context } from "hono";
import { logEvent } from "./log";

/**
 * Reports an unexpected error. Telemetry (Sentry) hooks in here so the rest of the code has one
 * function to call; the log line carries only the error's class, message and the request id.
 */
export function reportError(c: Context, error: unknown) {
  const err = error instanceof Error ? error : new Error(String(error));
  logEvent("error", {
    request_id: c.get("requestId"),
    route: c.req.routePath,
    error: err.name,
    message: err.message,
  });
}
