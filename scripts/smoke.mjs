#!/usr/bin/env node
// npm run smoke: one paid job end to end against a deployment, the way a client would run it.
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseCli } from "./lib/args.mjs";
import { bearer, describeAnswer, normalizeBaseUrl, request, sleep } from "./lib/http.ts";
import { createReport, StepFailed } from "./lib/report-table.ts";

const USAGE = `
Usage: npm run smoke -- --url <base> [--api-key K] [--admin-token T] [--bootstrap [--save-key FILE]]
                        [--top-up N] [--origin ORIGIN] [--timeout SECONDS]

Runs one paid job through a deployment and checks every promise on the way:
  1. GET /api/ready is ok
  2. the smoke account's balance (GET /api/me); with an admin token and fewer credits than a job holds,
     an operator grant tops it up (POST /api/admin/accounts/:id/grants)
  3. POST /api/jobs {type: "echo"} with a fresh Idempotency-Key: 201, queued, its cost held
  4. the same request again: the same job id, with Idempotent-Replayed: true, nothing new held
  5. the job reaches succeeded (polled, bounded by --timeout)
  6. the ledger (GET /api/billing/ledger) has exactly one hold for the job, posted by exactly one capture
     of the charged amount
  7. GET /api/me: the balance fell by exactly the charge and nothing is left held for it

Credentials (never printed):
  --api-key K        an API key of a dedicated smoke account (default: $SMOKE_API_KEY)
  --admin-token T    the admin token (default: $BACKEND_ADMIN_TOKEN), for top-ups and --bootstrap
  --bootstrap        no key yet: sign up a new smoke user, create an API key for it and grant it
                     credits (needs the admin token). Meant for local stacks and for creating the
                     account once; --save-key FILE writes the new key there (mode 0600) so it can
                     become SMOKE_API_KEY: gh secret set SMOKE_API_KEY < FILE

Options:
  --url BASE         the deployment's base URL (default: $BACKEND_BASE_URL)
  --top-up N         credits to grant when the account runs low, or on --bootstrap (default 100)
  --origin ORIGIN    Origin sent with --bootstrap's cookie requests (default: the URL's origin); must
                     be on the deployment's AUTH_ORIGIN_ALLOWLIST
  --timeout SECONDS  how long to wait for the job to succeed (default 60)
  -h, --help         show this help

Exit 0 when every step passed, 1 when one failed, 2 on a usage error.
`;

const { values } = parseCli({
  usage: USAGE,
  options: {
    url: { type: "string" },
    "api-key": { type: "string" },
    "admin-token": { type: "string" },
    bootstrap: { type: "boolean" },
    "save-key": { type: "string" },
    "top-up": { type: "string" },
    origin: { type: "string" },
    timeout: { type: "string" },
  },
});

const usageError = (/** @type {string} */ message) => {
  process.stderr.write(`smoke: ${message}\n${USAGE}`);
  process.exit(2);
};
let base = "";
try {
  base = normalizeBaseUrl(values.url ?? process.env.BACKEND_BASE_URL);
} catch (error) {
  usageError(`--url (or BACKEND_BASE_URL): ${/** @type {Error} */ (error).message}`);
}
const positive = (/** @type {string | undefined} */ raw, /** @type {number} */ fallback, name) => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) usageError(`--${name} must be a positive whole number`);
  return Number(raw);
};
const topUp = positive(values["top-up"], 100, "top-up");
const timeoutS = positive(values.timeout, 60, "timeout");
let apiKey = values["api-key"] ?? (process.env.SMOKE_API_KEY || undefined);
const adminToken = values["admin-token"] ?? (process.env.BACKEND_ADMIN_TOKEN || undefined);
const origin = values.origin ?? new URL(base).origin;
if (values.bootstrap && !adminToken)
  usageError("--bootstrap needs the admin token (--admin-token or BACKEND_ADMIN_TOKEN)");
if (!values.bootstrap && !apiKey)
  usageError("no API key: pass --api-key or set SMOKE_API_KEY (or --bootstrap with an admin token)");
if (values["save-key"] && !values.bootstrap) usageError("--save-key goes with --bootstrap");

const report = createReport("smoke");
report.log(base);

/** Fails the step with the answer's status and problem code unless it has the expected status. */
function expectStatus(
  /** @type {import("./lib/http.ts").HttpAnswer} */ answer,
  /** @type {number} */ status,
) {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${describeAnswer(answer)}`);
  return answer;
}

const api = (/** @type {string} */ path, /** @type {Parameters<typeof request>[1]} */ options = {}) =>
  request(`${base}${path}`, { ...options, headers: { ...bearer(apiKey), ...(options.headers ?? {}) } });

async function me() {
  const answer = expectStatus(await api("/api/me"), 200);
  return /** @type {{ account_id: string, balance: number, held: number, available: number }} */ (
    answer.body
  );
}

async function grant(
  /** @type {string} */ accountId,
  /** @type {number} */ amount,
  /** @type {string} */ reason,
) {
  const answer = await request(`${base}/api/admin/accounts/${accountId}/grants`, {
    headers: { ...bearer(adminToken), "idempotency-key": `smoke-grant-${randomUUID()}` },
    json: { amount, reason },
  });
  if (answer.status !== 200 && answer.status !== 201) throw new Error(`grant: ${describeAnswer(answer)}`);
}

/** A new user, its session cookie, an API key made with it. */
async function bootstrap() {
  const email = `smoke-${randomBytes(6).toString("hex")}@example.com`;
  const cookie = await report.step(
    "bootstrap: sign up a smoke user",
    async () => {
      const answer = await request(`${base}/api/auth/sign-up/email`, {
        headers: { origin },
        json: { name: "Tollgate smoke", email, password: randomBytes(24).toString("base64url") },
      });
      expectStatus(answer, 200);
      const session = answer.headers
        .getSetCookie()
        .map((c) => c.split(";")[0] ?? "")
        .find((c) => /session_token=/.test(c));
      if (!session) throw new Error("sign-up set no session cookie");
      return session;
    },
    () => email,
  );
  const secret = await report.step(
    "bootstrap: create an API key",
    async () => {
      const answer = await request(`${base}/api/keys`, {
        headers: { cookie, origin },
        json: { name: "smoke" },
      });
      expectStatus(answer, 201);
      if (typeof answer.body?.secret !== "string") throw new Error("no secret in the answer");
      return /** @type {string} */ (answer.body.secret);
    },
    () => `key created${values["save-key"] ? `, written to ${values["save-key"]} (0600)` : ""}`,
  );
  if (values["save-key"]) writeFileSync(values["save-key"], `${secret}\n`, { mode: 0o600 });
  return secret;
}

try {
  await report.step("GET /api/ready is ok", async () => {
    const answer = await request(`${base}/api/ready`);
    if (answer.status !== 200 || answer.body?.ok !== true) throw new Error(describeAnswer(answer));
    return `${answer.body.status} in ${answer.ms} ms`;
  });

  if (values.bootstrap) apiKey = await bootstrap();

  let before = await report.step(
    "smoke account (GET /api/me)",
    me,
    (m) => `balance ${m.balance}, held ${m.held}, available ${m.available}`,
  );
  // An echo job holds 10 credits; the answer to POST /api/jobs says exactly how many.
  if (values.bootstrap || before.available < 10) {
    await report.step(`top up: grant ${topUp} credits`, async () => {
      if (!adminToken)
        throw new Error(`only ${before.available} credits available and no admin token to grant more`);
      await grant(before.account_id, topUp, values.bootstrap ? "smoke bootstrap" : "smoke top-up");
      before = await me();
      return `available ${before.available}`;
    });
  }

  const idempotencyKey = `smoke-${randomUUID()}`;
  const jobRequest = { type: "echo", input: { message: `smoke ${new Date().toISOString()}` } };
  const created = await report.step(
    "POST /api/jobs (echo, fresh Idempotency-Key)",
    async () => {
      const answer = expectStatus(
        await api("/api/jobs", { headers: { "idempotency-key": idempotencyKey }, json: jobRequest }),
        201,
      );
      if (answer.headers.get("idempotent-replayed")) throw new Error("a fresh key was answered as a replay");
      const job = answer.body;
      if (typeof job?.id !== "string" || !(job.cost > 0)) throw new Error("the answer is not a job");
      return /** @type {{ id: string, cost: number, status: string }} */ (job);
    },
    (job) => `job ${job.id}, ${job.status}, ${job.cost} credits held`,
  );

  await report.step(
    "same Idempotency-Key again: same job, Idempotent-Replayed: true",
    async () => {
      const answer = expectStatus(
        await api("/api/jobs", { headers: { "idempotency-key": idempotencyKey }, json: jobRequest }),
        201,
      );
      if (answer.body?.id !== created.id)
        throw new Error(`a different job: ${answer.body?.id} (first ${created.id})`);
      if (answer.headers.get("idempotent-replayed") !== "true")
        throw new Error("no Idempotent-Replayed: true header");
    },
    () => `job ${created.id} again`,
  );

  const finished = await report.step(
    `job succeeded (within ${timeoutS} s)`,
    async () => {
      const deadline = Date.now() + timeoutS * 1000;
      for (;;) {
        const answer = expectStatus(await api(`/api/jobs/${created.id}`), 200);
        const job = answer.body;
        if (job.status === "succeeded") return /** @type {{ charged: number, attempts: number }} */ (job);
        if (["failed", "dead_lettered", "canceled", "expired"].includes(job.status))
          throw new Error(`ended ${job.status}${job.error ? `: ${job.error}` : ""}`);
        if (Date.now() > deadline)
          throw new Error(`still ${job.status} after ${timeoutS} s: is the queue consumer running?`);
        await sleep(500);
      }
    },
    (job) => `charged ${job.charged} after ${job.attempts} attempt(s)`,
  );

  await report.step("exactly one hold, captured once (GET /api/billing/ledger)", async () => {
    const answer = expectStatus(await api("/api/billing/ledger?limit=100"), 200);
    const entries = /** @type {any[]} */ (answer.body?.data ?? []);
    const holds = entries.filter(
      (t) => t.kind === "hold" && (t.ref === `job:${created.id}` || t.metadata?.job_id === created.id),
    );
    if (holds.length !== 1) throw new Error(`${holds.length} holds for the job, expected 1`);
    const hold = holds[0];
    if (hold.status !== "posted") throw new Error(`the hold is ${hold.status}, expected posted`);
    if (hold.amount !== created.cost)
      throw new Error(`the hold is ${hold.amount}, the job cost ${created.cost}`);
    const resolutions = entries.filter((t) => t.hold_id === hold.id);
    const captures = resolutions.filter((t) => t.kind === "capture");
    if (resolutions.length !== 1 || captures.length !== 1)
      throw new Error(
        `${resolutions.length} resolutions (${captures.length} captures), expected one capture`,
      );
    if (captures[0].amount !== finished.charged)
      throw new Error(`captured ${captures[0].amount}, the job says charged ${finished.charged}`);
    return `hold ${hold.id} (${hold.amount}) captured ${captures[0].amount}`;
  });

  await report.step("balance fell by the charge, nothing left held (GET /api/me)", async () => {
    const after = await me();
    if (before.balance - after.balance !== finished.charged)
      throw new Error(`balance ${before.balance} → ${after.balance}, expected −${finished.charged}`);
    if (after.held !== before.held)
      throw new Error(`held ${before.held} → ${after.held}, expected unchanged`);
    return `balance ${before.balance} → ${after.balance}, held ${after.held}`;
  });
} catch (error) {
  if (!(error instanceof StepFailed))
    report.record("unexpected error", "fail", /** @type {Error} */ (error).message);
}
process.exitCode = report.finish();
