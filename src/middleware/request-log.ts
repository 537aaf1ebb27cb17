import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { logEvent } from "../telemetry/log.ts";
import { tagInvocation } from "../telemetry/sentry.ts";
import { countingStatements, installStatementCounter } from "../telemetry/statement-counter.ts";

/**
 * The route pattern that answered (`/api/jobs/:id`), never the raw path, which can carry ids and
 * tokens. A 404 that only a wildcard middleware saw matched no route.
 */
function routeOf(path: string, status: number): string {
  if (status === 404 && path.endsWith("*")) return "(no route)";
  return path;
}

/**
 * One JSON line per request: request id, method, route pattern, status, duration and the database
 * statements it cost. Nothing from the body, the query string or the headers is logged, so no token,
 * key, cookie or e-mail address can reach the logs this way. Also tags Sentry's scope with the request
 * id, so every event of the request carries it.
 */
export function requestLog(): MiddlewareHandler<AppEnv> {
  installStatementCounter();
  return async function requestLogMiddleware(c, next) {
    const started = Date.now();
    const requestId = c.get("requestId");
    tagInvocation(c.env, requestId);
    const { count, done } = countingStatements(() => next());
    try {
      await done;
    } finally {
      logEvent("http.request", {
        request_id: requestId,
        method: c.req.method,
        route: routeOf(c.req.routePath, c.res.status),
        status: c.res.status,
        duration_ms: Date.now() - started,
        db_statements: count.statements,
        db_round_trips: count.roundTrips,
      });
    }
  };
}
