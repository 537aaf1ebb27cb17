// npm run smoke's steps as a function (go-live runs them too): one paid job end to end against a
// deployment, the way a client would run it, each promise on the way checked.
import { randomBytes, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { bearer, describeAnswer, type HttpAnswer, type RequestOptions, request, sleep } from "./http.ts";
import { createReport, type Row, StepFailed } from "./report-table.ts";

export type SmokeOptions = {
  base: string;
  /** An API key of a dedicated smoke account; required unless `bootstrap`. */
  apiKey?: string;
  /** For top-ups and `bootstrap`. */
  adminToken?: string;
  /** Sign up a new smoke user, create an API key for it and grant it credits first. */
  bootstrap?: boolean;
  /** Where `bootstrap` writes the new key (mode 0600). */
  saveKey?: string;
  /** Credits granted when the account runs low, or on `bootstrap` (default 100). */
  topUp?: number;
  /** Origin sent with the bootstrap's cookie requests (default: the base URL's). */
  origin?: string;
  /** How long to wait for the job to succeed, in seconds (default 60). */
  timeoutS?: number;
  /** Progress lines; nothing is printed without it. */
  log?: (line: string) => void;
};

export type SmokeResult = {
  ok: boolean;
  rows: Row[];
  /** The key the steps ran with: the one given, or the one `bootstrap` created (even if a later step failed). */
  apiKey: string | undefined;
};

type Me = { account_id: string; balance: number; held: number; available: number };
type Job = { id: string; cost: number; status: string };
type FinishedJob = { charged: number; attempts: number };
type LedgerEntry = {
  id: string;
  kind: string;
  status: string;
  amount: number;
  ref?: string;
  hold_id?: string;
  metadata?: { job_id?: string };
};

/** Fails the step with the answer's status and problem code unless it has the expected status. */
function expectStatus(answer: HttpAnswer, status: number): HttpAnswer {
  if (answer.status !== status) throw new Error(`expected ${status}, got ${describeAnswer(answer)}`);
  return answer;
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeResult> {
  const { base, adminToken, bootstrap = false, saveKey, topUp = 100, timeoutS = 60 } = options;
  const origin = options.origin ?? new URL(base).origin;
  let apiKey = options.apiKey;
  if (!bootstrap && !apiKey) throw new Error("runSmoke: an API key, or bootstrap with an admin token");

  const report = createReport("smoke", { log: options.log ?? (() => {}) });
  report.log(base);

  const api = (path: string, init: RequestOptions = {}) =>
    request(`${base}${path}`, { ...init, headers: { ...bearer(apiKey), ...(init.headers ?? {}) } });

  async function me(): Promise<Me> {
    const answer = expectStatus(await api("/api/me"), 200);
    return answer.body as Me;
  }

  async function grant(accountId: string, amount: number, reason: string) {
    const answer = await request(`${base}/api/admin/accounts/${accountId}/grants`, {
      headers: { ...bearer(adminToken), "idempotency-key": `smoke-grant-${randomUUID()}` },
      json: { amount, reason },
    });
    if (answer.status !== 200 && answer.status !== 201) throw new Error(`grant: ${describeAnswer(answer)}`);
  }

  /** A new user, its session cookie, an API key made with it. */
  async function signUpSmokeUser(): Promise<string> {
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
        return answer.body.secret as string;
      },
      () => `key created${saveKey ? `, written to ${saveKey} (0600)` : ""}`,
    );
    if (saveKey) writeFileSync(saveKey, `${secret}\n`, { mode: 0o600 });
    return secret;
  }

  try {
    await report.step("GET /api/ready is ok", async () => {
      const answer = await request(`${base}/api/ready`);
      if (answer.status !== 200 || answer.body?.ok !== true) throw new Error(describeAnswer(answer));
      return `${answer.body.status} in ${answer.ms} ms`;
    });

    if (bootstrap) apiKey = await signUpSmokeUser();

    let before = await report.step(
      "smoke account (GET /api/me)",
      me,
      (m) => `balance ${m.balance}, held ${m.held}, available ${m.available}`,
    );
    // An echo job holds 10 credits; the answer to POST /api/jobs says exactly how many.
    if (bootstrap || before.available < 10) {
      await report.step(`top up: grant ${topUp} credits`, async () => {
        if (!adminToken)
          throw new Error(`only ${before.available} credits available and no admin token to grant more`);
        await grant(before.account_id, topUp, bootstrap ? "smoke bootstrap" : "smoke top-up");
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
        if (answer.headers.get("idempotent-replayed"))
          throw new Error("a fresh key was answered as a replay");
        const job = answer.body;
        if (typeof job?.id !== "string" || !(job.cost > 0)) throw new Error("the answer is not a job");
        return job as Job;
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
          if (job.status === "succeeded") return job as FinishedJob;
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
      const entries: LedgerEntry[] = answer.body?.data ?? [];
      const holds = entries.filter(
        (t) => t.kind === "hold" && (t.ref === `job:${created.id}` || t.metadata?.job_id === created.id),
      );
      const hold = holds[0];
      if (holds.length !== 1 || !hold) throw new Error(`${holds.length} holds for the job, expected 1`);
      if (hold.status !== "posted") throw new Error(`the hold is ${hold.status}, expected posted`);
      if (hold.amount !== created.cost)
        throw new Error(`the hold is ${hold.amount}, the job cost ${created.cost}`);
      const resolutions = entries.filter((t) => t.hold_id === hold.id);
      const captures = resolutions.filter((t) => t.kind === "capture");
      const capture = captures[0];
      if (resolutions.length !== 1 || captures.length !== 1 || !capture)
        throw new Error(
          `${resolutions.length} resolutions (${captures.length} captures), expected one capture`,
        );
      if (capture.amount !== finished.charged)
        throw new Error(`captured ${capture.amount}, the job says charged ${finished.charged}`);
      return `hold ${hold.id} (${hold.amount}) captured ${capture.amount}`;
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
    if (!(error instanceof StepFailed)) report.record("unexpected error", "fail", (error as Error).message);
  }
  return { ok: !report.failed(), rows: report.rows, apiKey };
}
