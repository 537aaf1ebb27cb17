import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import type { JobView } from "../../src/jobs/view.ts";
import {
  eventPayload,
  newEventId,
  sessionFor,
  sign,
  topUpsFor,
  WEBHOOK_PATH,
  webhookInit,
} from "../billing/support.ts";
import { type Funded, fundedUser, jobRequest, RecordingQueue } from "../jobs/support.ts";
import { balanceOf, expectLedgerOk, rawSql } from "../support/ledger.ts";
import {
  canSignalBackends,
  expectServerError,
  injectFault,
  NEON_GONE,
  POSTGRES_REFUSES,
  statementTimeoutApplies,
  storedCounts,
  withStatementTimeout,
} from "./support.ts";

/**
 * The database fails while requests and webhooks are in flight. Whatever the failure, the client gets
 * a 5xx problem (so it, or Stripe, retries), nothing partial is stored, and the retry does the work
 * exactly once.
 */
afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
let signals = false;
let timeouts = false;
beforeAll(async () => {
  user = await fundedUser(100_000);
  signals = await canSignalBackends();
  timeouts = await statementTimeoutApplies(300);
});

/** Through the Worker's default export with env overrides and a recording queue. */
async function apiWith(
  overrides: Record<string, unknown>,
  path: string,
  init: RequestInit,
  queue: RecordingQueue,
) {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    new Request(`http://tollgate.test${path}`, init),
    { ...env, JOBS_QUEUE: queue as unknown as Queue, ...overrides } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

async function deliverWebhook(payload: string, overrides: Record<string, unknown> = {}) {
  return apiWith(overrides, WEBHOOK_PATH, webhookInit(payload, await sign(payload)), new RecordingQueue());
}

type Fault = {
  name: string;
  overrides: () => Record<string, unknown>;
  install?: () => Promise<() => Promise<void>>;
};

const FAULTS: Fault[] = [
  { name: "the local Neon server is gone", overrides: () => NEON_GONE },
  { name: "Postgres refuses the connection", overrides: () => POSTGRES_REFUSES },
  {
    name: "a statement_timeout cancels the statement after the hold was placed",
    overrides: () => withStatementTimeout(300),
    install: async () => {
      const jobs = await injectFault({ table: "jobs", when: "true", fault: "sleep" });
      const events = await injectFault({ table: "stripe_events", when: "true", fault: "sleep" });
      return async () => {
        await jobs();
        await events();
      };
    },
  },
  {
    name: "the statement is signalled to cancel in the middle (as on a failover)",
    overrides: () => ({}),
    install: async () => {
      const jobs = await injectFault({ table: "jobs", when: "true", fault: "cancel" });
      const events = await injectFault({ table: "stripe_events", when: "true", fault: "cancel" });
      return async () => {
        await jobs();
        await events();
      };
    },
  },
];

describe.each(FAULTS)("$name", (fault) => {
  const needsSignal = fault.name.includes("signalled");
  const needsTimeout = fault.name.includes("statement_timeout");
  const unsupported = () => (needsSignal && !signals) || (needsTimeout && !timeouts);

  it("POST /api/jobs: 5xx, nothing stored, no message; the same key then creates the job once", async (ctx) => {
    if (unsupported()) ctx.skip();
    const key = `chaos-${crypto.randomUUID()}`;
    const body = { type: "echo", input: { message: "through a failing database" } };
    const before = await storedCounts();
    const queue = new RecordingQueue();
    const uninstall = await fault.install?.();
    try {
      await expectServerError(
        await apiWith(fault.overrides(), "/api/jobs", jobRequest(user.auth, body, key), queue),
      );
    } finally {
      await uninstall?.();
    }
    expect(await storedCounts()).toEqual(before);
    expect(queue.sent).toEqual([]);

    const retried = await apiWith({}, "/api/jobs", jobRequest(user.auth, body, key), queue);
    expect(retried.status, await retried.clone().text()).toBe(201);
    expect(retried.headers.get("idempotent-replayed")).toBeNull();
    const job = (await retried.json()) as JobView;
    const replay = await apiWith({}, "/api/jobs", jobRequest(user.auth, body, key), queue);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(((await replay.json()) as JobView).id).toBe(job.id);
    expect(queue.jobIds()).toEqual([job.id]);
  });

  it("the Stripe webhook: 5xx, no credit and no event stored; Stripe's retry credits once", async (ctx) => {
    if (unsupported()) ctx.skip();
    const session = sessionFor(user.accountId);
    const payload = eventPayload("checkout.session.completed", session, newEventId());
    const before = await storedCounts();
    const balance = await balanceOf(user.accountId);
    const uninstall = await fault.install?.();
    try {
      const problem = await expectServerError(await deliverWebhook(payload, fault.overrides()));
      expect(problem.code).toBe("service_unavailable");
    } finally {
      await uninstall?.();
    }
    expect(await storedCounts()).toEqual(before);
    expect(await balanceOf(user.accountId)).toEqual(balance);

    const retried = await deliverWebhook(payload);
    expect(retried.status, await retried.clone().text()).toBe(200);
    expect(await retried.json()).toMatchObject({ status: "credited", duplicate: false });
    const again = await deliverWebhook(payload);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(await topUpsFor(session.id)).toHaveLength(1);
  });
});

describe("connections dropped in the middle of concurrent requests", () => {
  it("16 concurrent creations, half of them cancelled mid-statement: those 5xx and store nothing, the rest 201", async (ctx) => {
    if (!signals) ctx.skip();
    const before = await storedCounts();
    const uninstall = await injectFault({
      table: "jobs",
      when: "NEW.input->>'message' = 'doomed'",
      fault: "cancel",
    });
    const queue = new RecordingQueue();
    let responses: Response[];
    try {
      responses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          apiWith(
            {},
            "/api/jobs",
            jobRequest(user.auth, { type: "echo", input: { message: i % 2 === 0 ? "doomed" : "fine" } }),
            queue,
          ),
        ),
      );
    } finally {
      await uninstall();
    }
    const doomed = responses.filter((_, i) => i % 2 === 0);
    const fine = responses.filter((_, i) => i % 2 === 1);
    for (const response of doomed) await expectServerError(response);
    expect(fine.map((r) => r.status)).toEqual(Array(8).fill(201));
    const after = await storedCounts();
    expect(Number(after.jobs) - Number(before.jobs)).toBe(8);
    expect(Number(after.idempotency_keys) - Number(before.idempotency_keys)).toBe(8);
    // One hold per stored job, and nothing else.
    expect(Number(after.transfers) - Number(before.transfers)).toBe(8);
    expect(queue.sent).toHaveLength(8);
    const [doomedRows] = await rawSql<{ n: string }>(
      "select count(*) as n from jobs where input->>'message' = 'doomed'",
    );
    expect(doomedRows?.n).toBe("0");
  });

  it("concurrent webhooks, some cancelled mid-statement: no partial credit; their redelivery credits each session once", async (ctx) => {
    if (!signals) ctx.skip();
    const sessions = Array.from({ length: 8 }, () => sessionFor(user.accountId));
    const payloads = sessions.map((s, i) =>
      eventPayload(
        "checkout.session.completed",
        s,
        i % 2 === 0 ? `evt_doomed_${crypto.randomUUID()}` : newEventId(),
      ),
    );
    const balance = await balanceOf(user.accountId);
    const uninstall = await injectFault({
      table: "stripe_events",
      when: "NEW.event_id like 'evt_doomed_%'",
      fault: "cancel",
    });
    let first: Response[];
    try {
      first = await Promise.all(payloads.map((p) => deliverWebhook(p)));
    } finally {
      await uninstall();
    }
    for (const [i, response] of first.entries()) {
      if (i % 2 === 0) await expectServerError(response);
      else expect(response.status).toBe(200);
    }
    const credited = (await balanceOf(user.accountId)).balance - balance.balance;
    expect(credited).toBe(4 * 1000);
    // Stripe redelivers everything it did not get a 2xx for (and sometimes the rest too).
    const second = await Promise.all(payloads.map((p) => deliverWebhook(p)));
    expect(second.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const session of sessions) expect(await topUpsFor(session.id)).toHaveLength(1);
    expect((await balanceOf(user.accountId)).balance - balance.balance).toBe(8 * 1000);
  });

  it("a cancel while the database is gone: 5xx, the job stays queued with its hold pending", async () => {
    const queue = new RecordingQueue();
    const created = await apiWith({}, "/api/jobs", jobRequest(user.auth, { type: "echo" }), queue);
    const job = (await created.json()) as JobView;
    const cancel = { method: "POST", headers: user.auth };
    await expectServerError(await apiWith(NEON_GONE, `/api/jobs/${job.id}/cancel`, cancel, queue));
    const [row] = await rawSql<{ status: string; hold: string }>(
      "select j.status, t.status as hold from jobs j join transfers t on t.id = j.hold_id where j.id = $1",
      [job.id],
    );
    expect(row).toEqual({ status: "queued", hold: "pending" });
    const retried = await apiWith({}, `/api/jobs/${job.id}/cancel`, cancel, queue);
    expect(retried.status, await retried.clone().text()).toBe(200);
  });
});
