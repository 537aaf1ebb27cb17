import type { Config } from "./schema.ts";

/**
 * Origin policy (docs/ARCHITECTURE.md, Configuration rules). Every origin, configured or presented, goes
 * through the WHATWG URL parser and is compared as its serialized origin: scheme + lowercased host + port,
 * with default ports dropped. Nothing is matched by prefix, suffix or regex, so
 * `https://app.tollgate.example.evil.com` and `https://evilapp.tollgate.example` are simply different
 * strings.
 */

export type OriginFlags = { allowLocalhost: boolean; allowNull: boolean };

export const NULL_ORIGIN = "null";

/**
 * The serialized origin of an `http(s)` URL that names only an origin (no credentials, path, query or
 * fragment), or undefined. A trailing `/` is tolerated, as people write it in config.
 */
export function normalizeOrigin(value: string): string | undefined {
  const url = URL.parse(value.trim());
  if (!url) return undefined;
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (url.username || url.password || url.search || url.hash || url.pathname !== "/") return undefined;
  // The URL parser accepts `*` in a host; as an origin it could only ever match itself, so a pattern
  // someone meant as a wildcard is refused rather than kept as a dead entry.
  if (!url.hostname || url.hostname.includes("*")) return undefined;
  return url.origin;
}

/** localhost, `*.localhost`, the IPv4 loopback block, the IPv6 loopback and the unspecified address. */
export function isLocalhostOrigin(origin: string): boolean {
  const url = URL.parse(origin);
  if (!url) return false;
  const host = url.hostname;
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]" ||
    host === "0.0.0.0" ||
    host === "[::]"
  );
}

/**
 * The origins of a configured list that can ever match: wildcards, `null` and unparseable entries are
 * dropped (production refuses them outright, see config/rules.ts), localhost entries only when allowed.
 */
export function effectiveOrigins(list: readonly string[], flags: OriginFlags): Set<string> {
  const out = new Set<string>();
  for (const entry of list) {
    const origin = normalizeOrigin(entry);
    if (!origin) continue;
    if (isLocalhostOrigin(origin) && !flags.allowLocalhost) continue;
    out.add(origin);
  }
  return out;
}

/** The origin a request claims, from `Origin`, else from `Referer` (some clients omit `Origin`). */
export function requestOrigin(headers: Headers): string | undefined {
  const origin = headers.get("origin");
  if (origin !== null) return origin.trim();
  const referer = headers.get("referer");
  if (!referer) return undefined;
  return URL.parse(referer)?.origin;
}

/**
 * Whether a presented origin is in a list. The opaque `null` origin (sandboxed frames, `file:`) has no
 * host to list, so ALLOW_NULL_ORIGIN alone decides it; a localhost origin must be listed and allowed by
 * ALLOW_LOCALHOST_ORIGINS.
 */
export function originAllowed(
  presented: string | undefined,
  list: readonly string[],
  flags: OriginFlags,
): boolean {
  if (!presented) return false;
  if (presented === NULL_ORIGIN) return flags.allowNull;
  const origin = normalizeOrigin(presented);
  return origin !== undefined && effectiveOrigins(list, flags).has(origin);
}

export function originFlags(config: Config): OriginFlags {
  return { allowLocalhost: config.ALLOW_LOCALHOST_ORIGINS, allowNull: config.ALLOW_NULL_ORIGIN };
}

/** May this origin use cookie sessions and call `/api/auth/*`? (AUTH_ORIGIN_ALLOWLIST) */
export function isAuthOrigin(config: Config, presented: string | undefined): boolean {
  return originAllowed(presented, config.AUTH_ORIGIN_ALLOWLIST, originFlags(config));
}

/** Does this origin get CORS headers? (CORS_ALLOW_ORIGINS) */
export function isCorsOrigin(config: Config, presented: string | undefined): boolean {
  return originAllowed(presented, config.CORS_ALLOW_ORIGINS, originFlags(config));
}

/**
 * May Tollgate redirect to this URL (Checkout return URLs and the like)? Only when the URL's origin is
 * in PUBLIC_ORIGIN_ALLOWLIST; the path may be anything.
 */
export function isPublicRedirect(config: Config, url: string): boolean {
  const parsed = URL.parse(url);
  if (!parsed || parsed.username || parsed.password) return false;
  return originAllowed(parsed.origin, config.PUBLIC_ORIGIN_ALLOWLIST, originFlags(config));
}
