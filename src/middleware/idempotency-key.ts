import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors/api-error.ts";

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** Visible ASCII: what people put in keys (UUIDs, ULIDs, hashes) and nothing that hides in a log. */
const KEY_PATTERN = /^[\x21-\x7e]+$/;

function invalid(detail: string) {
  return new ApiError("idempotency_key_invalid", detail);
}

/**
 * The `Idempotency-Key` header's value, or a 400 `idempotency_key_invalid`. A header sent twice
 * arrives joined as `a, b`, so a comma means "repeated" and is refused rather than guessed at. The
 * structured-field form of the IETF draft (`"key"`) is accepted too.
 */
export function parseIdempotencyKey(header: string | undefined): string {
  if (header === undefined) throw invalid("The Idempotency-Key header is required for this request.");
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (key.includes(",")) throw invalid("Send the Idempotency-Key header once, with one value.");
  if (key.length === 0) throw invalid("The Idempotency-Key header is empty.");
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw invalid(`The Idempotency-Key is longer than ${IDEMPOTENCY_KEY_MAX_LENGTH} characters.`);
  }
  if (!KEY_PATTERN.test(key)) throw invalid("The Idempotency-Key may only contain visible ASCII characters.");
  return key;
}

/** Requires an Idempotency-Key on the route and puts the checked value on `c.get("idempotencyKey")`. */
export function idempotencyKey(): MiddlewareHandler<AppEnv> {
  return async function idempotencyKeyMiddleware(c, next) {
    c.set("idempotencyKey", parseIdempotencyKey(c.req.header("idempotency-key")));
    return next();
  };
}

/** The OpenAPI description of the header, shared by every route that requires it. */
export const IDEMPOTENCY_KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: true,
  description: `1–${IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters, no comma; one per logical request (e.g. a UUID), reused on its retries.`,
  schema: { type: "string", maxLength: IDEMPOTENCY_KEY_MAX_LENGTH },
} as const;
