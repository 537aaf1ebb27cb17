import * as Sentry from "@sentry/cloudflare";
import { releaseName } from "./release.ts";
import { scrubEvent, secretValues } from "./scrub.ts";

/**
 * Sentry, behind this one module. Without SENTRY_DSN nothing here does anything: the
 * handlers run unwrapped and the capture functions return at once. With it, fetch, queue and scheduled
 * run inside `withSentry`; only 5xx and unknown errors are reported, every event carries the request
 * (or invocation) id, `release` and `environment`, and `beforeSend` scrubs secrets from all of it.
 */

/** `fetch` takes any Request, so tests and service bindings can call the export directly. */
export type WorkerHandler = {
  fetch: (request: Request, env: Env, ctx: ExecutionContext) => Response | Promise<Response>;
  queue: ExportedHandlerQueueHandler<Env>;
  scheduled: ExportedHandlerScheduledHandler<Env>;
};

type RawEnv = Record<string, unknown>;

function text(env: object, name: string): string | undefined {
  const value = (env as RawEnv)[name];
  return typeof value === "string" && value.trim().length > 0 ? value.trim() : undefined;
}

export function sentryDsn(env: object): string | undefined {
  return text(env, "SENTRY_DSN");
}

/** Headers worth having on an event; everything else (Authorization, Cookie, signatures) never leaves. */
const REQUEST_HEADERS_KEPT = [
  "accept",
  "content-type",
  "content-length",
  "user-agent",
  "x-request-id",
  "cf-ray",
];

export function sentryOptions(env: object): Sentry.CloudflareOptions {
  const secrets = secretValues(env);
  return {
    dsn: sentryDsn(env),
    release: releaseName(env),
    environment: text(env, "ENVIRONMENT") ?? "local",
    initialScope: { tags: { role: text(env, "ROLE") ?? "all-in-one" } },
    // Errors only: no tracing, no bodies, no cookies, no user data.
    tracesSampleRate: 0,
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpBodies: [],
      httpHeaders: { request: { allow: REQUEST_HEADERS_KEPT }, response: false },
      urlQueryParams: { deny: ["token"] },
      databaseQueryData: false,
      queues: false,
      stackFrameVariables: false,
    },
    beforeSend: (event, hint) => scrubEvent(event, hint, secrets),
    beforeBreadcrumb: (breadcrumb) => scrubEvent(breadcrumb, undefined, secrets),
  };
}

/**
 * Wraps the Worker's handlers. The choice is made per invocation from the env, so a Worker without a
 * DSN never initialises the SDK (no client, no env proxy, no isolation scopes).
 */
export function withTelemetry(handler: WorkerHandler): WorkerHandler {
  const instrumented = Sentry.withSentry((env: Env) => sentryOptions(env), { ...handler });
  const pick = (env: Env) => (sentryDsn(env) ? instrumented : handler);
  return {
    fetch: (request, env, ctx) => pick(env).fetch(request, env, ctx),
    queue: (batch, env, ctx) => pick(env).queue(batch, env, ctx),
    scheduled: (controller, env, ctx) => pick(env).scheduled(controller, env, ctx),
  };
}

/** The HTTP status an error stands for: its own `status` (ApiError, HTTPException), else 500. */
export function statusOfError(error: unknown): number {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 100 && status <= 599 ? status : 500;
}

/** Puts the request or invocation id on everything this invocation reports. */
export function tagInvocation(env: object, requestId: string) {
  if (!sentryDsn(env)) return;
  Sentry.getIsolationScope().setTag("request_id", requestId);
}

/** Reports a server-side failure: 5xx and unknown errors only; a 4xx is the client's, never reported. */
export function captureServerError(
  env: object,
  error: unknown,
  context: { requestId?: string; route?: string; method?: string },
) {
  if (!sentryDsn(env)) return;
  const status = statusOfError(error);
  if (status < 500) return;
  Sentry.withScope((scope) => {
    if (context.requestId) scope.setTag("request_id", context.requestId);
    if (context.route) scope.setTag("route", context.route);
    if (context.method) scope.setTag("method", context.method);
    scope.setTag("status", String(status));
    Sentry.captureException(error);
  });
}

/** An alert notification, once, as a Sentry message: error while firing, info when resolved. */
/** What an alert notification carries to Sentry. */
export type AlertReport = {
  rule: string;
  event: "firing" | "resolved";
  value: number | null;
  threshold: number | null;
  summary: string;
};

export function captureAlert(env: object, notification: AlertReport) {
  if (!sentryDsn(env)) return;
  Sentry.withScope((scope) => {
    scope.setTag("alert_rule", notification.rule);
    scope.setTag("alert_event", notification.event);
    scope.setExtra("value", notification.value);
    scope.setExtra("threshold", notification.threshold);
    scope.setFingerprint(["tollgate-alert", notification.rule, notification.event]);
    Sentry.captureMessage(
      `alert ${notification.event}: ${notification.summary}`,
      notification.event === "firing" ? "error" : "info",
    );
  });
}
