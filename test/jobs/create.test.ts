import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ECHO_COST } from "../../src/jobs/types/echo.ts";
import type { JobView } from "../../src/jobs/view.ts";
import { APP_ORIGIN, FOREIGN_ORIGIN } from "../support/auth.ts";
import { expectProblem } from "../support/http.ts";
import { balanceOf, expectLedgerOk, rawSql } from "../support/ledger.ts";
import { api, createEcho, type Funded, fundedUser, grant, jobRequest, RecordingQueue } from "./support.ts";

afterEach(async () => {
  await expectLedgerOk();
});

let user: Funded;
beforeAll(async () => {
  user = await fundedUser(1000);
});

const post = (body: unknown, key: string | null = crypto.randomUUID(), queue = new RecordingQueue()) =>
  api("/api/jobs", jobRequest(user.auth, body, key), queue);

async function storedFor(accountId: string) {
  const [row] = await rawSql<{ jobs: string; keys: string; holds: string }>(
    `select (select count(*) from jobs where account_id = $1) as jobs,
       (select count(*) from idempotency_keys where account_id = $1) as keys,
       (select count(*) from transfers t join accounts a on a.ledger_account_id = t.debit_account_id
         where a.id = $1 and t.kind = 'hold') as holds`,
    [accountId],
  );
  return { jobs: Number(row?.jobs), keys: Number(row?.keys), holds: Number(row?.holds) };
}

describe("POST /api/jobs", () => {
  it("creates a queued job with its hold and sends its message", async () => {
    const queue = new RecordingQueue();
    const response = await post({ type: "echo", input: { message: "a" } }, "create-1", queue);
    expect(response.status).toBe(201);
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const job = (await response.json()) as JobView;
    expect(job).toMatchObject({
      type: "echo",
      status: "queued",
      cost: ECHO_COST,
      input: { message: "a", delay_ms: 0 },
    });
    expect(queue.sent).toEqual([{ job_id: job.id }]);
  });

  it("a replay answers the first status and body with Idempotent-Replayed, and creates and sends nothing", async () => {
    const before = await storedFor(user.accountId);
    const first = await post({ type: "echo", input: { message: "r" } }, "replay-1");
    const firstBody = await first.text();
    const queue = new RecordingQueue();
    // Same value, other spacing and key order: still the same request.
    const replay = await api(
      "/api/jobs",
      {
        method: "POST",
        headers: { ...user.auth, "content-type": "application/json", "idempotency-key": "replay-1" },
        body: '{ "input": {"message":"r"},   "type": "echo" }',
      },
      queue,
    );
    expect(replay.status).toBe(first.status);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(firstBody);
    expect(queue.sent).toEqual([]);
    expect(await storedFor(user.accountId)).toEqual({
      jobs: before.jobs + 1,
      keys: before.keys + 1,
      holds: before.holds + 1,
    });
  });

  it("replays the original body even after the job moved on", async () => {
    const first = await post({ type: "echo" }, "replay-after-cancel");
    const job = (await first.json()) as JobView;
    const cancel = await api(`/api/jobs/${job.id}/cancel`, { method: "POST", headers: user.auth });
    expect(cancel.status).toBe(200);
    const replay = await post({ type: "echo" }, "replay-after-cancel");
    expect(await replay.json()).toEqual(job);
  });

  it("the same key with another body is 422 idempotency_key_reused and changes nothing", async () => {
    await post({ type: "echo", input: { message: "one" } }, "reused-1");
    const before = await storedFor(user.accountId);
    await expectProblem(
      await post({ type: "echo", input: { message: "two" } }, "reused-1"),
      422,
      "idempotency_key_reused",
    );
    expect(await storedFor(user.accountId)).toEqual(before);
  });

  it.each([
    ["missing", null],
    ["empty", ""],
    ["longer than 255 characters", "k".repeat(256)],
    ["repeated (joined with a comma)", "key-a, key-b"],
    ["containing a space", "key with spaces"],
  ])("an Idempotency-Key that is %s is 400 idempotency_key_invalid", async (_, key) => {
    await expectProblem(await post({ type: "echo" }, key), 400, "idempotency_key_invalid");
  });

  it("a header sent twice is refused, not half-used", async () => {
    const headers = new Headers({ ...user.auth, "content-type": "application/json" });
    headers.append("idempotency-key", "twice-a");
    headers.append("idempotency-key", "twice-b");
    const response = await api("/api/jobs", {
      method: "POST",
      headers,
      body: JSON.stringify({ type: "echo" }),
    });
    await expectProblem(response, 400, "idempotency_key_invalid");
  });

  it("accepts a key of 255 characters and the quoted form of the IETF draft", async () => {
    expect((await post({ type: "echo" }, "k".repeat(255))).status).toBe(201);
    const quoted = await post({ type: "echo" }, '"quoted-key"');
    expect(quoted.status).toBe(201);
    const plain = await post({ type: "echo" }, "quoted-key");
    expect(plain.headers.get("idempotent-replayed")).toBe("true");
  });

  it("an unknown type is 400 naming the field", async () => {
    const problem = await expectProblem(await post({ type: "nope", input: {} }), 400, "validation_failed");
    expect(problem.errors).toEqual([expect.objectContaining({ path: "type" })]);
  });

  it.each([
    ["a delay over the bound", { delay_ms: 30_001 }, "input.delay_ms"],
    ["a negative fail count", { fail_times: -1 }, "input.fail_times"],
    ["a charge above the hold", { charge: ECHO_COST + 1 }, "input.charge"],
    ["an unknown field", { surprise: true }, "input"],
  ])("input with %s is 400 with the field's error", async (_, input, path) => {
    const problem = await expectProblem(await post({ type: "echo", input }), 400, "validation_failed");
    expect(problem.errors).toEqual([expect.objectContaining({ path })]);
  });

  it("a field the server owns is refused, not stored", async () => {
    await expectProblem(await post({ type: "echo", status: "succeeded", cost: 1 }), 400, "validation_failed");
  });

  it("an input over 16 KiB is 413 (the body limit is larger)", async () => {
    const response = await post({ type: "echo", input: { message: "x".repeat(17 * 1024) } });
    await expectProblem(response, 413, "payload_too_large");
  });

  it("insufficient credits is 402 with nothing stored; the same key works after a top-up", async () => {
    const poor = await fundedUser(ECHO_COST - 1);
    const send = () => api("/api/jobs", jobRequest(poor.auth, { type: "echo" }, "poor-1"));
    const refused = await expectProblem(await send(), 402, "insufficient_credits");
    expect(String(refused.detail)).toContain(`${ECHO_COST - 1} are available`);
    expect(await storedFor(poor.accountId)).toEqual({ jobs: 0, keys: 0, holds: 0 });
    await grant(poor.accountId, 1);
    const accepted = await send();
    expect(accepted.status).toBe(201);
    expect(accepted.headers.get("idempotent-replayed")).toBeNull();
    expect(await balanceOf(poor.accountId)).toMatchObject({
      balance: ECHO_COST,
      held: ECHO_COST,
      available: 0,
    });
  });

  it("a key expires after 24 hours and may then be used for a new request", async () => {
    const first = (await (
      await post({ type: "echo", input: { message: "old" } }, "expiring")
    ).json()) as JobView;
    await rawSql(
      "update idempotency_keys set expires_at = now() - interval '1 second' where key = 'expiring'",
    );
    const second = await post({ type: "echo", input: { message: "new" } }, "expiring");
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBeNull();
    expect(((await second.json()) as JobView).id).not.toBe(first.id);
    const replay = await post({ type: "echo", input: { message: "new" } }, "expiring");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });

  it("keys are per account: another account's key never answers with your job", async () => {
    const other = await fundedUser(100);
    const mine = (await (await post({ type: "echo" }, "shared-key")).json()) as JobView;
    const theirs = await api("/api/jobs", jobRequest(other.auth, { type: "echo" }, "shared-key"));
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get("idempotent-replayed")).toBeNull();
    expect(((await theirs.json()) as JobView).id).not.toBe(mine.id);
  });

  it("works with a session cookie from the app's origin, and refuses one from a foreign origin", async () => {
    const ok = await api(
      "/api/jobs",
      jobRequest({ cookie: user.cookie, origin: APP_ORIGIN }, { type: "echo" }),
    );
    expect(ok.status).toBe(201);
    const csrf = await api(
      "/api/jobs",
      jobRequest({ cookie: user.cookie, origin: FOREIGN_ORIGIN }, { type: "echo" }),
    );
    await expectProblem(csrf, 403, "origin_not_allowed");
  });

  it("an unknown or revoked API key is 401 and stores nothing", async () => {
    const before = await storedFor(user.accountId);
    const unknown = await api(
      "/api/jobs",
      jobRequest({ authorization: `Bearer tg_local_${"Z".repeat(43)}` }, { type: "echo" }),
    );
    await expectProblem(unknown, 401, "unauthorized");
    await expectProblem(await api("/api/jobs", jobRequest({}, { type: "echo" })), 401, "unauthorized");
    expect(await storedFor(user.accountId)).toEqual(before);
  });

  it("a queue that refuses the message still answers 201: the job waits in the outbox", async () => {
    const { job, queue } = await createEcho(user, {}, new RecordingQueue({ fail: true }));
    expect(queue.sent).toEqual([]);
    expect(job.status).toBe("queued");
  });
});
