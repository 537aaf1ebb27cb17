/**
 * API keys for programmatic clients: `tg_<environment>_<secret>`, where the secret is 43 base62
 * characters drawn uniformly from 256 bits of randomness. Base62 keeps the key one "word" (a double
 * click selects all of it) and free of `_`, so the three parts split unambiguously.
 *
 * Tollgate stores only the SHA-256 digest of the whole key (hex) and a short visible prefix. A plain
 * hash is enough: the secret has 256 bits of entropy, so there is nothing to brute-force, and a fast
 * hash keeps the lookup one indexed equality. The environment is part of the key, and so of the
 * digest, so a key can never be moved to another environment by editing its prefix.
 */

import { sha256Hex } from "../lib/encoding.ts";

export const API_KEY_ENVIRONMENTS = ["local", "staging", "production"] as const;
export type ApiKeyEnvironment = (typeof API_KEY_ENVIRONMENTS)[number];

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** ceil(256 / log2(62)): the fewest base62 characters that carry 256 bits. */
export const API_KEY_SECRET_LENGTH = 43;
/** Characters of the secret kept in the visible prefix, so people can tell their keys apart. */
const VISIBLE_SECRET_CHARS = 6;
const API_KEY_PATTERN = /^tg_(local|staging|production)_([0-9A-Za-z]{43})$/;

/** Uniform base62 by rejection sampling: bytes >= 248 (4 × 62) are discarded, so no character is favoured. */
function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const byte of bytes) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export type NewApiKey = { secret: string; prefix: string; digest: string; environment: ApiKeyEnvironment };

export async function generateApiKey(environment: ApiKeyEnvironment): Promise<NewApiKey> {
  const random = randomBase62(API_KEY_SECRET_LENGTH);
  const secret = `tg_${environment}_${random}`;
  return { secret, prefix: visiblePrefix(secret), digest: await digestApiKey(secret), environment };
}

export function visiblePrefix(secret: string): string {
  const parsed = API_KEY_PATTERN.exec(secret);
  if (!parsed) throw new Error("not an API key");
  return `tg_${parsed[1]}_${(parsed[2] ?? "").slice(0, VISIBLE_SECRET_CHARS)}`;
}

export async function digestApiKey(secret: string): Promise<string> {
  return sha256Hex(secret);
}

export type ParsedApiKey =
  | { ok: true; digest: string; environment: ApiKeyEnvironment }
  | { ok: false; reason: "malformed" | "wrong_environment" };

/**
 * Checks a presented key's shape and environment without touching the database, then digests it.
 * A staging key sent to production is refused here, before any lookup.
 */
export async function parseApiKey(presented: string, environment: string): Promise<ParsedApiKey> {
  const parsed = API_KEY_PATTERN.exec(presented);
  if (!parsed) return { ok: false, reason: "malformed" };
  if (parsed[1] !== environment) return { ok: false, reason: "wrong_environment" };
  return { ok: true, digest: await digestApiKey(presented), environment: parsed[1] as ApiKeyEnvironment };
}
