/**
 * Scrubbing of everything Tollgate sends to a third party (Sentry events and breadcrumbs): secrets,
 * credentials and e-mail addresses are replaced wherever they appear — message, exception values,
 * extra, tags, contexts, breadcrumbs, request data — not only in the fields where they are expected.
 */

export const REDACTED = "[redacted]";

/** Values of these variables are redacted verbatim wherever they show up (an admin token has no shape). */
const SECRET_VARIABLES = [
  "ADMIN_TOKEN",
  "ADMIN_TOKEN_NEXT",
  "BETTER_AUTH_SECRET",
  "DATABASE_URL",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "MONITOR_ALERT_WEBHOOK_URL",
] as const;

/** Keys whose value is a credential or personal data, whatever it looks like. */
const SENSITIVE_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|stripe-signature|x-api-key|api[-_]?key|password|passwd|secret|client_secret|token|access_token|refresh_token|session_token|admin_token|e-?mail|email_address|cookies)$/i;

const PATTERNS: [RegExp, string][] = [
  // Authorization values, whatever the scheme's token looks like.
  [/\b(Bearer|Basic)\s+[^\s"',;]+/gi, `$1 ${REDACTED}`],
  // Tollgate API keys: tg_<env>_<random>.
  [/\btg_[A-Za-z0-9_]{4,}/g, `tg_${REDACTED}`],
  // Stripe secrets and signatures.
  [/\b(sk|rk)_(live|test)_[A-Za-z0-9_]+/g, REDACTED],
  [/\bwhsec_[A-Za-z0-9_]+/g, REDACTED],
  [/\bt=\d+,v1=[0-9a-f]+(,v0=[0-9a-f]+)?/g, REDACTED],
  // Credentials inside URLs (postgres://user:password@host).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi, `$1${REDACTED}@`],
  // Tokens in query strings (the console's ?token= exchange).
  [/([?&](?:token|access_token|api_key|key)=)[^&\s#"']+/gi, `$1${REDACTED}`],
  // E-mail addresses, also URL-encoded (a query string's `%40`).
  [/[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/gi, "[email]"],
];

/** The configured secret values of this env, longest first (so a value containing another goes first). */
export function secretValues(env: object): string[] {
  const raw = env as Record<string, unknown>;
  const values = new Set<string>();
  for (const name of SECRET_VARIABLES) {
    const value = raw[name];
    if (typeof value !== "string") continue;
    // A comma-separated list (webhook secrets during a rotation) is several secrets.
    for (const part of [value, ...value.split(",")]) {
      const trimmed = part.trim();
      if (trimmed.length >= 8) values.add(trimmed);
    }
  }
  return [...values].sort((a, b) => b.length - a.length);
}

export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const MAX_DEPTH = 16;

function scrubValue(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === "string") return scrubText(value, secrets);
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SENSITIVE_KEY.test(key) ? REDACTED : scrubValue(inner, secrets, depth + 1);
  }
  return out;
}

/**
 * `beforeSend` / `beforeBreadcrumb`: drops reports of client errors (a 4xx is never Sentry's business)
 * and returns a scrubbed copy of everything else. Request bodies and cookies are dropped outright.
 */
export function scrubEvent<T extends object>(
  event: T,
  hint: { originalException?: unknown } | undefined,
  secrets: readonly string[],
): T | null {
  const status = (hint?.originalException as { status?: unknown } | null | undefined)?.status;
  if (typeof status === "number" && status >= 400 && status < 500) return null;
  const responseStatus = (event as { contexts?: { response?: { status_code?: unknown } } }).contexts?.response
    ?.status_code;
  if (typeof responseStatus === "number" && responseStatus >= 400 && responseStatus < 500) return null;

  const request = (event as { request?: Record<string, unknown> }).request;
  if (request) {
    delete request.data;
    delete request.cookies;
  }
  return scrubValue(event, secrets, 0) as T;
}
