import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, runScript, startLocalStack } from "../../scripts/lib/stack.ts";
import { postgresReachable, testDatabaseUrl } from "./postgres.ts";

// These tests start a real stack over the machine's Postgres; without one they fail, never skip.
if (!(await postgresReachable(testDatabaseUrl()))) {
  throw new Error(`${import.meta.url}: needs Postgres at TEST_DATABASE_URL (default 127.0.0.1:5432)`);
}

const STEPS = [
  "GET /api/ready is ok",
  "smoke account (GET /api/me)",
  "POST /api/jobs (echo, fresh Idempotency-Key)",
  "same Idempotency-Key again: same job, Idempotent-Replayed: true",
  "job succeeded (within 60 s)",
  "exactly one hold, captured once (GET /api/billing/ledger)",
  "balance fell by the charge, nothing left held (GET /api/me)",
];

describe("npm run smoke against a local stack", () => {
  let stack: LocalStack;
  let keyFile = "";
  const smoke = (args: string[], env: Record<string, string | undefined> = {}) =>
    runScript("scripts/smoke.ts", args, {
      env: { BACKEND_BASE_URL: undefined, BACKEND_ADMIN_TOKEN: undefined, SMOKE_API_KEY: undefined, ...env },
    });

  beforeAll(async () => {
    stack = await startLocalStack();
    keyFile = join(stack.workDir, "smoke-key");
  }, 120_000);
  afterAll(() => stack?.close(), 30_000);

  it("--help; no key and no --bootstrap is a usage error (exit 2)", async () => {
    const help = await smoke(["--help"]);
    expect(help.code).toBe(0);
    expect(help.output).toContain("SMOKE_API_KEY");
    const usage = await smoke(["--url", stack.url]);
    expect(usage.code).toBe(2);
    expect(usage.output).toContain("no API key");
  });

  it("--bootstrap: signs up a smoke user, makes a key, grants credits and runs one job end to end", async () => {
    const { code, output } = await smoke(["--url", stack.url, "--bootstrap", "--save-key", keyFile], {
      BACKEND_ADMIN_TOKEN: stack.adminToken,
    });
    expect(code, output).toBe(0);
    for (const step of [
      "bootstrap: sign up a smoke user",
      "bootstrap: create an API key",
      "top up: grant 100 credits",
      ...STEPS,
    ]) {
      expect(output, step).toMatch(new RegExp(`\\| ${step.replace(/[()/:]/g, "\\$&")} +\\| PASS `));
    }
    expect(output).toContain("smoke: OK");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, "utf8").trim();
    expect(output).not.toContain(key);
    expect(output).not.toContain(stack.adminToken);
  });

  it("with SMOKE_API_KEY: the same checks, and the database agrees: one hold per job, each captured once", async () => {
    const key = readFileSync(keyFile, "utf8").trim();
    const { code, output } = await smoke(["--url", stack.url], { SMOKE_API_KEY: key });
    expect(code, output).toBe(0);
    expect(output).not.toContain("bootstrap");
    const jobId = /job ([0-9a-f-]{36}) again/.exec(output)?.[1];
    const holds = await stack.query(
      `select h.status, count(c.id)::int as captures, j.status as job from jobs j
       join transfers h on h.id = j.hold_id left join transfers c on c.pending_id = h.id
       where j.id = $1 group by h.status, j.status`,
      [jobId],
    );
    expect(holds).toEqual([{ status: "posted", captures: 1, job: "succeeded" }]);
    const [counts] = await stack.query(
      "select count(*)::int as jobs from jobs j join idempotency_keys k on k.job_id = j.id where j.id = $1",
      [jobId],
    );
    expect(counts?.jobs).toBe(1);
  });

  it("a wrong API key: exit 1 at the account step, naming the 401", async () => {
    const { code, output } = await smoke(["--url", stack.url], {
      SMOKE_API_KEY: "tg_local_not_a_real_key_0000",
    });
    expect(code, output).toBe(1);
    expect(output).toMatch(
      /\| smoke account \(GET \/api\/me\) +\| FAIL +\| expected 200, got 401 unauthorized/,
    );
    expect(output).toContain("smoke: FAILED");
    expect(output).not.toContain("tg_local_not_a_real_key_0000");
  });

  it("an account without credits and no admin token to top it up: exit 1 before any job is created", async () => {
    const bare = join(stack.workDir, "bare-key");
    // A second account: bootstrap, then spend its grant down below one job's cost.
    const made = await smoke(["--url", stack.url, "--bootstrap", "--save-key", bare, "--top-up", "5"], {
      BACKEND_ADMIN_TOKEN: stack.adminToken,
    });
    expect(made.code, made.output).toBe(1);
    expect(made.output).toMatch(
      /\| POST \/api\/jobs .*\| FAIL +\| expected 201, got 402 insufficient_credits/,
    );
    const { code, output } = await smoke(["--url", stack.url], {
      SMOKE_API_KEY: readFileSync(bare, "utf8").trim(),
    });
    expect(code, output).toBe(1);
    expect(output).toMatch(
      /\| top up: grant 100 credits +\| FAIL +\| only 5 credits available and no admin token/,
    );
  });
});
