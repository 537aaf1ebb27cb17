/**
 * The closed list of error codes (docs/ARCHITECTURE.md, Errors). Clients switch on `code`, so a code is never
 * renamed and a new failure gets a new entry here rather than a free-form string somewhere else.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, title: "Bad request" },
  invalid_json: { status: 400, title: "Malformed JSON body" },
  validation_failed: { status: 400, title: "Request validation failed" },
  idempotency_key_invalid: { status: 400, title: "Idempotency-Key header missing or malformed" },
  invalid_signature: { status: 400, title: "Webhook signature verification failed" },
  unauthorized: { status: 401, title: "Authentication required" },
  insufficient_credits: { status: 402, title: "Insufficient credits" },
  forbidden: { status: 403, title: "Forbidden" },
  origin_not_allowed: { status: 403, title: "Origin not allowed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  idempotency_request_in_progress: {
    status: 409,
    title: "A request with this Idempotency-Key is in progress",
  },
  payload_too_large: { status: 413, title: "Request body too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  idempotency_key_reused: { status: 422, title: "Idempotency-Key reused with a different request" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Internal server error" },
  upstream_error: { status: 502, title: "Upstream service error" },
  service_unavailable: { status: 503, title: "Service unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];
