import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { reportError } from "../telemetry/report.ts";
import { ApiError, type FieldError } from "./api-error.ts";
import type { ErrorCode } from "./codes.ts";
import { problemResponse } from "./problem.ts";

function codeForHttpException(error: HTTPException): ErrorCode {
  switch (error.status) {
    case 400:
      return /json/i.test(error.message) ? "invalid_json" : "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 429:
      return "rate_limited";
    case 503:
      return "service_unavailable";
    default:
      return error.status >= 500 ? "internal_error" : "bad_request";
  }
}

/**
 * Postgres refuses some text a client can send in valid JSON: a NUL character (22021) or its `\u0000`
 * escape inside jsonb (22P05). That is the client's input, not a fault of ours: 400, not 500.
 */
function isUnstorableText(error: unknown): boolean {
  // Drizzle wraps the driver's error ("Failed query: ..."), so the Postgres code may sit on a cause.
  for (let e = error as { code?: unknown; cause?: unknown } | null, depth = 0; e && depth < 3; depth++) {
    if (e.code === "22021" || e.code === "22P05") return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * The one error handler, in three tiers: our own `ApiError`, Hono's `HTTPException`, and anything
 * else, which is a bug: 500, reported, with no detail that could leak internals.
 */
export const onError: ErrorHandler = (error, c) => {
  if (error instanceof ApiError) {
    if (error.status >= 500) reportError(c, error);
    return problemResponse(c, error.code, error.message, error.errors, error.headers);
  }
  if (error instanceof HTTPException) {
    const code = codeForHttpException(error);
    if (error.status >= 500) reportError(c, error);
    return problemResponse(c, code, error.status >= 500 ? undefined : error.message);
  }
  if (isUnstorableText(error)) {
    return problemResponse(
      c,
      "bad_request",
      "The request holds text Postgres cannot store (such as a NUL character).",
    );
  }
  reportError(c, error);
  return problemResponse(
    c,
    "internal_error",
    "An unexpected error occurred; quote the request id when reporting it.",
  );
};

export const notFound: NotFoundHandler = (c) =>
  problemResponse(c, "not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`);

/** zod-openapi's `defaultHook`: validation failures get the same problem+json shape as every error. */
export function validationHook(
  result:
    | { success: true }
    | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } },
  c: Context,
) {
  if (result.success) return;
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  return problemResponse(c, "validation_failed", "The request did not match the schema.", errors);
}
