import { ApiError } from "../errors/api-error.ts";

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/** How long a key answers with what it produced; after that it may be used for a new request. */
export const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60;

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

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * SHA-256 (hex) of method, path and body. The body is compared as a JSON value, not as bytes, so a
 * client that re-serialises the same request with other spacing or key order is still replayed.
 */
export async function requestFingerprint(method: string, path: string, body: unknown): Promise<string> {
  const text = `${method.toUpperCase()} ${path}\n${canonicalJson(body)}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
