import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { api, RecordingQueue } from "../jobs/support.ts";
import { APP_ORIGIN, bearer, createKey, randomIp, signUp, type TestUser } from "../support/auth.ts";
import { call } from "../support/http.ts";
import { rawSql } from "../support/ledger.ts";
import { type Random, seededRandom } from "../support/ledger-model.ts";
import {
  awkwardHeaderValue,
  awkwardId,
  awkwardQuery,
  awkwardString,
  mutate,
  notJson,
  randomJson,
} from "./inputs.ts";

/**
 * Every public route gets hostile input: random JSON shapes, wrong types, huge strings, awkward
 * Unicode, malformed bodies, repeated and missing headers, garbage ids and query strings, each with
 * no credential and with the right one. Whatever arrives, the answer is a 4xx problem document or a
 * 2xx the route documents (in the OpenAPI document), never a 5xx, and a refused request stores
 * nothing. FUZZ_SEED=<seed> (and FUZZ_CASES) in the test bindings replays a run.
 */
const settings = env as unknown as Record<string, string | undefined>;
const SEED = Number(settings.FUZZ_SEED || Math.floor(Math.random() * 2 ** 31));
const CASES = Number(settings.FUZZ_CASES || 8);

type Credential = "none" | "session" | "key" | "admin";

type Operation = {
  method: string;
  /** With `{id}` where a path parameter goes. */
  path: string;
  credentials: Credential[];
  /** Statuses the route documents; every 4xx is fine as long as it is a problem document. */
  documented: Set<number>;
  sample?: { body?: unknown; headers?: Record<string, string> };
  /** The ops console is a browser page: its refusals are HTML pages and its buttons answer 303. */
  browser?: boolean;
};

const STRIPE_EVENT = {
  id: "evt_fuzz",
  object: "event",
  type: "checkout.session.completed",
  data: { object: { id: "cs_test_fuzz", object: "checkout.session", metadata: {}, payment_status: "paid" } },
};

function samples(user: TestUser): Record<string, Operation["sample"]> {
  return {
    "POST /api/keys": { body: { name: "fuzz" } },
    "POST /api/admin/accounts/{id}/grants": {
      body: { amount: 5, reason: "fuzz" },
      headers: { "idempotency-key": "fuzz" },
    },
    "POST /api/billing/checkout": { body: { pack_id: "starter" }, headers: { "idempotency-key": "fuzz" } },
    "POST /api/billing/stripe/webhook": { body: STRIPE_EVENT, headers: { "stripe-signature": "t=1,v1=00" } },
    "POST /api/ops/reconcile": { body: {} },
    "POST /api/jobs": {
      body: { type: "echo", input: { message: "fuzz" } },
      headers: { "idempotency-key": "fuzz" },
    },
    "POST /api/auth/sign-up/email": {
      body: { name: "Fuzz", email: "fuzz@tollgate.test", password: "fuzz-password-1" },
    },
    "POST /api/auth/sign-in/email": { body: { email: user.email, password: "wrong-password" } },
    "POST /api/auth/change-password": {
      body: { currentPassword: "wrong", newPassword: "another-password-1" },
    },
    "POST /api/auth/revoke-session": { body: { token: "fuzz" } },
  };
}

/** Routes the OpenAPI document does not list: health and docs, better-auth's endpoints, the console. */
const EXTRA_OPERATIONS: Operation[] = [
  { method: "GET", path: "/api/health", credentials: ["none"], documented: new Set([200]) },
  { method: "GET", path: "/api/openapi.json", credentials: ["none"], documented: new Set([200]) },
  { method: "GET", path: "/api/docs", credentials: ["none"], documented: new Set([200]) },
  ...[
    "/sign-up/email",
    "/sign-in/email",
    "/sign-out",
    "/change-password",
    "/revoke-session",
    "/revoke-sessions",
  ].map(
    (endpoint): Operation => ({
      method: "POST",
      path: `/api/auth${endpoint}`,
      credentials: ["none", "session"],
      documented: new Set([200]),
    }),
  ),
  ...["/get-session", "/list-sessions"].map(
    (endpoint): Operation => ({
      method: "GET",
      path: `/api/auth${endpoint}`,
      credentials: ["none", "session"],
      documented: new Set([200]),
    }),
  ),
  { method: "POST", path: "/api/auth/not-an-endpoint", credentials: ["none"], documented: new Set() },
  { method: "GET", path: "/ops", credentials: ["none", "admin"], documented: new Set([200]), browser: true },
  {
    method: "POST",
    path: "/ops/dead-letters/{id}/retry",
    credentials: ["none", "admin"],
    documented: new Set(),
    browser: true,
  },
  {
    method: "POST",
    path: "/ops/webhook-events/{id}/reprocess",
    credentials: ["none", "admin"],
    documented: new Set(),
    browser: true,
  },
];

type OpenApiDocument = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, unknown>; security?: Record<string, unknown>[] }>
  >;
};

function credentialsOf(security: Record<string, unknown>[] | undefined): Credential[] {
  const schemes = new Set((security ?? []).flatMap((s) => Object.keys(s)));
  const out: Credential[] = ["none"];
  if (schemes.has("apiKey")) out.push("key");
  else if (schemes.has("sessionCookie")) out.push("session");
  if (schemes.has("adminToken")) out.push("admin");
  return out;
}

/** Every counted row and every ledger total: a refused request must leave all of them as they were. */
let snapshotSql = "";
async function snapshot(): Promise<string> {
  if (!snapshotSql) {
    const tables = await rawSql<{ name: string }>(
      "select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1",
    );
    const counts = tables.map((t) => `'${t.name}', (select count(*) from "${t.name}")`).join(", ");
    snapshotSql = `select json_build_object(${counts},
      'ledger', (select sum(debits_pending + 2 * debits_posted + 3 * credits_pending + 4 * credits_posted) from ledger_accounts),
      'job_states', (select string_agg(status, ',' order by id) from jobs),
      'keys_revoked', (select count(*) from api_keys where revoked_at is not null)) as state`;
  }
  const [row] = await rawSql<{ state: unknown }>(snapshotSql);
  return JSON.stringify(row?.state);
}

let user: TestUser;
let key: string;
let operations: Operation[];
let sampleOf: Record<string, Operation["sample"]>;

beforeAll(async () => {
  user = await signUp();
  key = (await createKey(user, "fuzz")).secret;
  const doc = (await (await call("/api/openapi.json")).json()) as OpenApiDocument;
  operations = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      operations.push({
        method: method.toUpperCase(),
        path,
        credentials: credentialsOf(op.security),
        documented: new Set(Object.keys(op.responses).map(Number)),
      });
    }
  }
  operations.push(...EXTRA_OPERATIONS);
  sampleOf = samples(user);
});

function credentialHeaders(credential: Credential): Record<string, string> {
  switch (credential) {
    case "none":
      return {};
    case "key":
      return bearer(key);
    case "session":
      return { cookie: user.cookie, origin: APP_ORIGIN };
    case "admin":
      return { authorization: `Bearer ${env.ADMIN_TOKEN}` };
  }
}

type Case = { kind: string; path: string; headers: Headers; body?: string | Uint8Array };

/** One hostile request for `op`, drawn from `random`. */
function hostileCase(random: Random, op: Operation, credential: Credential): Case {
  const sample = sampleOf[`${op.method} ${op.path}`];
  const hasBody = op.method !== "GET" && op.method !== "DELETE";
  const kinds = hasBody
    ? ["shape", "mutate", "mutate", "huge", "not_json", "headers", "path", "content_type"]
    : ["headers", "path", "query", "query", "shape"];
  const kind = random.pick(kinds) ?? "shape";
  const idFor = () =>
    kind === "path"
      ? awkwardId(random)
      : (random.pick([user.accountId, crypto.randomUUID(), "evt_fuzz"]) ?? "x");
  let path = op.path.replace("{id}", idFor());
  if (kind === "query" || (kind === "path" && random.chance(0.3))) path += `?${awkwardQuery(random)}`;

  const headers = new Headers({ "cf-connecting-ip": randomIp(), ...credentialHeaders(credential) });
  for (const [name, value] of Object.entries(sample?.headers ?? {})) headers.set(name, value);
  if (hasBody) headers.set("content-type", "application/json");
  if (sample?.headers?.["idempotency-key"] || op.path === "/api/jobs")
    headers.set("idempotency-key", crypto.randomUUID());

  let body: string | Uint8Array | undefined;
  if (hasBody) {
    const base = sample?.body ?? {};
    if (kind === "shape") body = JSON.stringify(randomJson(random));
    else if (kind === "mutate") body = JSON.stringify(mutate(random, base));
    else if (kind === "huge")
      body = JSON.stringify({
        ...(base as object),
        [random.pick(Object.keys(base as object)) ?? "x"]: awkwardString(random),
      });
    else if (kind === "not_json") body = notJson(random);
    else body = JSON.stringify(base);
  } else if (kind === "shape") {
    body = undefined;
    headers.set("content-type", "application/json");
  }

  if (kind === "headers") {
    // Sent twice: a Headers object joins them with ", " as the wire would.
    const name =
      random.pick([
        "idempotency-key",
        "authorization",
        "content-type",
        "stripe-signature",
        "cookie",
        "origin",
        "accept",
      ]) ?? "accept";
    const roll = random.next();
    if (roll < 0.4) headers.append(name, headers.get(name) ?? awkwardHeaderValue(random));
    else if (roll < 0.7) headers.delete(name);
    else headers.set(name, awkwardHeaderValue(random));
  }
  if (kind === "content_type") {
    const value = random.pick([
      "text/plain",
      "application/x-www-form-urlencoded",
      "",
      "application/jsonx",
      "application/json; charset=latin1",
    ]);
    if (value) headers.set("content-type", value);
    else headers.delete("content-type");
  }
  return { kind, path, headers, body };
}

describe("hostile input on every public route", () => {
  it(`answers only 4xx problems or documented 2xx, and stores nothing when it refuses (seed ${SEED})`, {
    timeout: 180_000,
  }, async () => {
    console.log(
      `fuzz: seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${operations.length} operations, ${CASES} cases per credential (2 without one)`,
    );
    const random = seededRandom(SEED);
    const failures: string[] = [];
    const tally: Record<string, number> = {};
    let sent = 0;
    for (const op of operations) {
      for (const credential of op.credentials) {
        // Without a credential most routes stop at 401, so the credentialed cases get most of the budget.
        const cases = credential === "none" && op.credentials.length > 1 ? 2 : CASES;
        for (let n = 0; n < cases; n += 1) {
          let hostile: Case;
          try {
            hostile = hostileCase(random, op, credential);
          } catch {
            continue; // a header value the runtime will not even put on the wire
          }
          const label = `${op.method} ${op.path} [${credential}] ${hostile.kind} → ${hostile.path.slice(0, 80)}`;
          const before = await snapshot();
          const response = await api(
            hostile.path,
            { method: op.method, headers: hostile.headers, body: hostile.body },
            new RecordingQueue(),
          );
          sent += 1;
          const status = response.status;
          tally[String(status)] = (tally[String(status)] ?? 0) + 1;
          const type = response.headers.get("content-type") ?? "";
          const text = await response.text();
          if (status >= 500) {
            failures.push(`${label}: ${status} ${text.slice(0, 200)}`);
          } else if (status >= 400) {
            if (op.browser && type.includes("text/html")) {
              // The console's sign-in page, for a browser.
            } else if (!type.includes("application/problem+json")) {
              failures.push(`${label}: ${status} with ${type || "no content type"}`);
            } else {
              const problem = JSON.parse(text) as { status?: number; code?: string; request_id?: string };
              if (problem.status !== status || !problem.code || !problem.request_id)
                failures.push(
                  `${label}: ${status} problem without status/code/request_id: ${text.slice(0, 200)}`,
                );
            }
            const after = await snapshot();
            if (after !== before) failures.push(`${label}: refused with ${status} but the database changed`);
          } else if (status >= 300) {
            if (!op.browser) failures.push(`${label}: unexpected redirect ${status}`);
          } else if (!op.documented.has(status)) {
            failures.push(
              `${label}: ${status} is not a documented answer (${[...op.documented].join(", ")})`,
            );
          }
        }
      }
    }
    console.log(`fuzz: ${sent} requests, statuses ${JSON.stringify(tally)}`);
    expect(failures, `seed ${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThan(operations.length * 2);
  });
});
