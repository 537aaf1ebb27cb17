/**
 * Every authenticated route, in one list, so the shared security suite (`*.security.test.ts`) attacks
 * each of them the same way. When you add an authenticated route, add it here; the suite then checks
 * it refuses missing, malformed, revoked and other-environment credentials, cookie changes from a
 * foreign origin, wrong admin tokens and server-owned fields in the body.
 *
 * auth:
 *   "session"  a signed-in browser session only (API keys are refused)
 *   "key"      an API key or a session (programmatic routes)
 *   "admin"    Authorization: Bearer <ADMIN_TOKEN>
 */
import type { TestUser } from "../support/auth";

export type AuthKind = "session" | "key" | "admin";

export type RouteCase = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** `:id` is replaced by `sampleId` (or by the id `owned` returns, for the ownership checks). */
  path: string;
  auth: AuthKind;
  /** A valid body, so a refusal can only come from the credentials. */
  body?: unknown;
  headers?: Record<string, string>;
  sampleId?: string;
  /** Server-owned fields a client might try to set; the route must ignore or refuse them. */
  serverOwned?: Record<string, unknown>;
  /** Creates a resource owned by `user` and returns its id, for the cross-account 404 check. */
  owned?: (user: TestUser) => Promise<string>;
};

const SOME_UUID = "00000000-0000-4000-8000-000000000000";

/** Values no server-generated field will ever hold, so an echo of them is a mass-assignment. */
export const INJECTED = {
  account_id: "11111111-1111-4111-8111-111111111111",
  balance: 987654321,
  available: 987654321,
  cost: 987654321,
  status: "succeeded",
  id: "22222222-2222-4222-8222-222222222222",
  digest: "f".repeat(64),
  prefix: "tg_local_INJECT",
  revoked_at: "1999-01-01T00:00:00.000Z",
  environment: "production",
};

export const ROUTES: RouteCase[] = [
  { method: "GET", path: "/api/me", auth: "key" },
  { method: "GET", path: "/api/billing/ledger", auth: "key" },
  { method: "GET", path: "/api/jobs", auth: "key" },
  { method: "GET", path: "/api/keys", auth: "session" },
  {
    method: "POST",
    path: "/api/keys",
    auth: "session",
    body: { name: "security suite" },
    serverOwned: INJECTED,
  },
  {
    method: "DELETE",
    path: "/api/keys/:id",
    auth: "session",
    sampleId: SOME_UUID,
    owned: async (user) => {
      const { createKey } = await import("../support/auth");
      return (await createKey(user, "owned by someone else")).id;
    },
  },
  {
    method: "POST",
    path: "/api/admin/accounts/:id/grants",
    auth: "admin",
    sampleId: SOME_UUID,
    body: { amount: 5, reason: "security suite" },
    headers: { "idempotency-key": "security-suite" },
  },
  {
    method: "POST",
    path: "/api/billing/checkout",
    auth: "key",
    body: { pack_id: "starter" },
    headers: { "idempotency-key": "security-suite" },
    serverOwned: { ...INJECTED, credits: 987654321, amount: 987654321, url: "https://evil.example/pay" },
  },
  { method: "POST", path: "/api/ops/reconcile", auth: "admin", body: {} },
  { method: "GET", path: "/api/ops/metrics", auth: "admin" },
  { method: "GET", path: "/api/ops/alerts", auth: "admin" },
  { method: "GET", path: "/api/ops/dead-letters", auth: "admin" },
  { method: "POST", path: "/api/ops/dead-letters/:id/retry", auth: "admin", sampleId: SOME_UUID },
  { method: "GET", path: "/api/ops/webhook-failures", auth: "admin" },
  {
    method: "POST",
    path: "/api/ops/webhook-events/:id/reprocess",
    auth: "admin",
    sampleId: "evt_security_suite",
  },
  // The /ops console's buttons: the admin token, or the console cookie from the console's own origin.
  { method: "POST", path: "/ops/dead-letters/:id/retry", auth: "admin", sampleId: SOME_UUID },
  {
    method: "POST",
    path: "/ops/webhook-events/:id/reprocess",
    auth: "admin",
    sampleId: "evt_security_suite",
  },
];

export const isStateChanging = (route: RouteCase) => route.method !== "GET";

export function pathOf(route: RouteCase, id = route.sampleId) {
  return id ? route.path.replace(":id", id) : route.path;
}

export function requestFor(
  route: RouteCase,
  headers: Record<string, string>,
  body = route.body,
): RequestInit {
  return {
    method: route.method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...route.headers,
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}
