import { describe, expect, it } from "vitest";
import { z } from "zod";
import { BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS, backoffSeconds } from "../../src/jobs/backoff.ts";
import { MAX_OUTPUT_BYTES, runAttempt } from "../../src/jobs/executor.ts";
import { canonicalJson, requestFingerprint } from "../../src/jobs/idempotency.ts";
import { QueueMessage } from "../../src/jobs/messages.ts";
import {
  createRegistry,
  DEFAULT_MAX_ATTEMPTS,
  defineJobType,
  JOB_TYPES,
  leaseSeconds,
} from "../../src/jobs/registry.ts";
import type { Claim } from "../../src/jobs/store.ts";
import { ECHO_COST, echo } from "../../src/jobs/types/echo.ts";

const claim = (type: string, input: unknown = {}, attempt = 1): Claim => ({
  jobId: crypto.randomUUID(),
  outcome: "claimed",
  status: "running",
  accountId: crypto.randomUUID(),
  type,
  input,
  cost: 10,
  attempt,
  maxAttempts: 5,
});

describe("job type registry", () => {
  it("ships echo with its cost and a bounded delay", () => {
    expect(JOB_TYPES.get("echo")).toBe(echo);
    expect(echo.cost({})).toBe(ECHO_COST);
    expect(echo.maxAttempts).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(echo.input.safeParse({ delay_ms: 30_000 }).success).toBe(true);
    expect(echo.input.safeParse({ delay_ms: 30_001 }).success).toBe(false);
    expect(echo.timeoutMs).toBeGreaterThan(30_000);
  });

  it("refuses type names that are not lowercase identifiers, and a name registered twice", () => {
    const make = (name: string) =>
      defineJobType({
        name,
        description: "",
        input: z.object({}),
        cost: () => 1,
        run: async () => ({ output: 1 }),
        timeoutMs: 1,
      });
    expect(() => make("Echo")).toThrow();
    expect(() => make("with-dash")).toThrow();
    expect(() => createRegistry([make("same"), make("same")])).toThrow(/twice/);
  });

  it("leases cover the slowest type's timeout with a margin", () => {
    expect(leaseSeconds(JOB_TYPES)).toBeGreaterThan(echo.timeoutMs / 1000);
  });
});

describe("backoff", () => {
  it("doubles per attempt, is capped, and never drops below half its step", () => {
    expect(backoffSeconds(1, () => 0)).toBe(Math.round(BACKOFF_BASE_SECONDS / 2));
    expect(backoffSeconds(1, () => 0.999)).toBe(BACKOFF_BASE_SECONDS);
    expect(backoffSeconds(3, () => 0)).toBe(2 * BACKOFF_BASE_SECONDS);
    expect(backoffSeconds(3, () => 0.999)).toBe(4 * BACKOFF_BASE_SECONDS);
    expect(backoffSeconds(50, () => 0.999)).toBe(BACKOFF_MAX_SECONDS);
    expect(backoffSeconds(50, () => 0)).toBe(BACKOFF_MAX_SECONDS / 2);
  });

  it("jitters: jobs that failed together come back spread out", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffSeconds(6)));
    expect(delays.size).toBeGreaterThan(5);
  });
});

describe("the executor", () => {
  it("echo succeeds, fails its first N attempts (retryable), or fails permanently", async () => {
    expect(await runAttempt(claim("echo", { message: "x" }), { registry: JOB_TYPES })).toMatchObject({
      outcome: "succeeded",
      output: { message: "x", attempt: 1 },
    });
    expect(await runAttempt(claim("echo", { fail_times: 2 }, 2), { registry: JOB_TYPES })).toMatchObject({
      outcome: "retry",
    });
    expect(await runAttempt(claim("echo", { fail_times: 2 }, 3), { registry: JOB_TYPES })).toMatchObject({
      outcome: "succeeded",
    });
    expect(
      await runAttempt(claim("echo", { fail_times: 1, fail_permanently: true }), { registry: JOB_TYPES }),
    ).toMatchObject({ outcome: "failed" });
  });

  it("an output over the limit fails the job instead of bloating its row", async () => {
    const big = defineJobType({
      name: "big",
      description: "",
      input: z.object({}),
      cost: () => 1,
      run: async () => ({ output: "x".repeat(MAX_OUTPUT_BYTES) }),
      timeoutMs: 1000,
    });
    const result = await runAttempt(claim("big"), { registry: createRegistry([big]) });
    expect(result).toMatchObject({ outcome: "failed" });
    expect(result.error).toContain(String(MAX_OUTPUT_BYTES));
  });

  it("stored input that no longer parses fails the job rather than running it", async () => {
    expect(await runAttempt(claim("echo", { delay_ms: "soon" }), { registry: JOB_TYPES })).toMatchObject({
      outcome: "failed",
    });
  });
});

describe("queue messages", () => {
  it("accepts {job_id} and heartbeats, refuses anything else", () => {
    expect(QueueMessage.safeParse({ job_id: crypto.randomUUID() }).success).toBe(true);
    expect(QueueMessage.safeParse({ kind: "heartbeat", deployment: "d", sent_at: "t" }).success).toBe(true);
    expect(QueueMessage.safeParse({ job_id: "123" }).success).toBe(false);
    expect(QueueMessage.safeParse({ kind: "other" }).success).toBe(false);
    expect(QueueMessage.safeParse(null).success).toBe(false);
  });
});

describe("request fingerprints", () => {
  it("ignore key order and spacing, and see every value, the method and the path", async () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}',
    );
    const base = await requestFingerprint("POST", "/api/jobs", { type: "echo", input: { a: 1, b: 2 } });
    expect(await requestFingerprint("POST", "/api/jobs", { input: { b: 2, a: 1 }, type: "echo" })).toBe(base);
    expect(await requestFingerprint("POST", "/api/jobs", { type: "echo", input: { a: 1, b: 3 } })).not.toBe(
      base,
    );
    expect(await requestFingerprint("PUT", "/api/jobs", { type: "echo", input: { a: 1, b: 2 } })).not.toBe(
      base,
    );
    expect(await requestFingerprint("POST", "/api/other", { type: "echo", input: { a: 1, b: 2 } })).not.toBe(
      base,
    );
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
});
