/**
 * Every authenticated route, in one list, so the shared security suite (`*.security.test.ts`) attacks
 * each of them the same way. When you add an authenticated route, add it here; the suite then checks
 * it refuses missing, malformed, revoked and other-environment credentials, cookie changes from a
 * foreign origin, wrong admin tokens and server-owned fields in the body, and that another account's
 * id is a 404 like a missing one. A route that needs more than credentials to answer (credits, a
 * resource of the caller's, a fresh Idempotency-Key) sets it up in `prepare`.
 *
 * auth:
 *   "session"  a signed-in browser session only (API keys are refused)
 *   "key"      an API key or a session (programmatic routes)
 *   "admin"    Authorization: Bearer <ADMIN_TOKEN>
 */
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import { grant, jobRequest, api as jobsApi, RecordingQueue } from "../jobs/support.ts";
import { callWith, createKey, database, session, type TestUser } from "../support/auth.ts";
import { call } from "../support/http.ts";

export type AuthKind = "session" | "key" | "admin";

export type RouteCase = {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** `:id` is replaced by the id `prepare` returns, else by `sampleId`. */
  path: string;
  auth: AuthKind;
  /** A valid body, so a refusal can only come from the credentials. */
  body?: unknown;
  headers?: Record<string, string>;
  sampleId?: string;
  /** Server-owned fields a client might try to set; the route must ignore or refuse them. */
  serverOwned?: Record<string, unknown>;
  /**
   * How the route refuses a body holding any one of `serverOwned` (it must then store nothing).
   * Absent: the route may ignore them (2xx, never echoed) or refuse them with 400/422.
   */
  refusesServerOwned?: { status: number; code: string };
  /**
   * Sets up what one valid request needs on behalf of `user` (credits, a resource the user owns) and
   * returns the parts that replace the static ones. Every check calls it before each request it sends,
   * so a refusal can only come from what the check changed. A route with `:id` returns the id of a
   * resource `user` owns: the cross-account 404 check uses it.
   */
  prepare?: (user: TestUser) => Promise<Prepared>;
};

export type Prepared = {
  /** Replaces `:id`. */
  id?: string;
  body?: unknown;
  /** Merged over the route's `headers`. */
  headers?: Record<string, string>;
  /** Bindings replaced for the request, e.g. a recording JOBS_QUEUE so no message reaches the shared queue. */
  env?: Record<string, unknown>;
};

/** One concrete request of a route: what `requestFor` and `send` take. */
export type Target = {
  method: RouteCase["method"];
  path: string;
  id?: string;
  body?: unknown;
  headers?: Record<string, string>;
  env?: Record<string, unknown>;
};

const SOME_UUID = "00000000-0000-4000-8000-000000000000";

/** A valid job: echo holds ECHO_COST credits. */
const JOB_BODY = { type: "echo", input: { message: "security suite" } };

/** Exactly the credits one more job needs, so an unfunded user can create it. */
async function fundOneJob(user: TestUser) {
  await grant(user.accountId, ECHO_COST);
}

/** A queued job owned by `user`, created through a recording queue so no consumer ever runs it. */
async function queuedJob(user: TestUser): Promise<string> {
  await fundOneJob(user);
  const response = await jobsApi("/api/jobs", jobRequest(session(user), JOB_BODY));
  if (response.status !== 201) throw new Error(`creating a job: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

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
  {
    method: "POST",
    path: "/api/jobs",
    auth: "key",
    body: JOB_BODY,
    headers: { "idempotency-key": "security-suite" },
    // Fields of the job row and the account; CreateJobRequest is a strict object, so any is a 400.
    serverOwned: {
      account_id: INJECTED.account_id,
      balance: INJECTED.balance,
      available: INJECTED.available,
      cost: INJECTED.cost,
      status: INJECTED.status,
      id: INJECTED.id,
      charged: 987654321,
      hold_id: 987654321,
      attempts: 987654321,
      max_attempts: 987654321,
      output: { injected: true },
    },
    refusesServerOwned: { status: 400, code: "validation_failed" },
    prepare: async (user) => {
      await fundOneJob(user);
      return {
        headers: { "idempotency-key": crypto.randomUUID() },
        env: { JOBS_QUEUE: new RecordingQueue() },
      };
    },
  },
  {
    method: "GET",
    path: "/api/jobs/:id",
    auth: "key",
    sampleId: SOME_UUID,
    prepare: async (user) => ({ id: await queuedJob(user) }),
  },
  {
    method: "POST",
    path: "/api/jobs/:id/cancel",
    auth: "key",
    sampleId: SOME_UUID,
    prepare: async (user) => ({ id: await queuedJob(user) }),
  },
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
    prepare: async (user) => ({ id: (await createKey(user, "security suite")).id }),
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
  route: Pick<RouteCase, "method" | "body" | "headers">,
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

/** A valid request of `route` for `user`: its `prepare` hook run (if any) over the static parts. */
export async function targetFor(route: RouteCase, user: TestUser): Promise<Target> {
  const prepared = (await route.prepare?.(user)) ?? {};
  const id = prepared.id ?? route.sampleId;
  return {
    method: route.method,
    path: pathOf(route, id),
    id,
    body: "body" in prepared ? prepared.body : route.body,
    headers: { ...route.headers, ...prepared.headers },
    env: prepared.env,
  };
}

/**
 * Sends `target` with `headers` through the Worker: `call` (the real entrypoint), or `callWith` when the
 * target or the check replaces bindings. `options.path` and `options.body` replace the target's.
 */
export function send(
  target: Target,
  headers: Record<string, string>,
  options: { path?: string; body?: unknown; env?: Record<string, unknown> } = {},
) {
  const init = requestFor(target, headers, "body" in options ? options.body : target.body);
  const path = options.path ?? target.path;
  const env = { ...target.env, ...options.env };
  return Object.keys(env).length > 0 ? callWith(env, path, init) : call(path, init);
}

/**
 * What an account holds, to show a refused request changed nothing: its keys (and whether revoked),
 * its jobs and their statuses, its stored Idempotency-Keys and its balance.
 */
export async function accountState(accountId: string) {
  const rows = (await database().query(
    `select
       (select coalesce(json_agg(json_build_object('id', k.id, 'revoked', k.revoked_at is not null) order by k.id), '[]')
          from api_keys k where k.account_id = a.id) as keys,
       (select coalesce(json_agg(json_build_object('id', j.id, 'status', j.status) order by j.id), '[]')
          from jobs j where j.account_id = a.id) as jobs,
       (select count(*)::int from idempotency_keys i where i.account_id = a.id) as idempotency_keys,
       b.balance::text, b.held::text, b.available::text
     from accounts a cross join lateral ledger_balances(a.ledger_account_id) b where a.id = $1`,
    [accountId],
  )) as Record<string, unknown>[];
  if (!rows[0]) throw new Error(`no account ${accountId}`);
  return rows[0];
}
