import { sha256 } from "../lib/encoding.ts";

/**
 * Compares a presented token with the expected one without leaking either: both sides are hashed
 * first, so the timing-safe compare always sees 32 bytes — no length oracle, no exception on
 * different lengths — and an empty expected value never matches.
 */
export async function tokenMatches(presented: string, expected: string | undefined): Promise<boolean> {
  if (!expected) return false;
  const [a, b] = await Promise.all([sha256(presented), sha256(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Whether a presented token is ADMIN_TOKEN or ADMIN_TOKEN_NEXT (a rotation puts the new token in place
 * before the old one is withdrawn). Both comparisons always run, so the timing says nothing.
 */
export async function isAdminToken(
  config: { ADMIN_TOKEN: string; ADMIN_TOKEN_NEXT?: string | undefined },
  presented: string,
): Promise<boolean> {
  const [current, next] = await Promise.all([
    tokenMatches(presented, config.ADMIN_TOKEN),
    tokenMatches(presented, config.ADMIN_TOKEN_NEXT),
  ]);
  return presented.length > 0 && (current || next);
}
