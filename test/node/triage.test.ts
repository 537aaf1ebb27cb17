import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { githubSlug, PLAYBOOK, playbookAnchors, RULE_GUIDES } from "../../scripts/lib/checks.ts";
import { type LocalStack, runScript, startLocalStack } from "../../scripts/lib/stack.ts";
import { ALERT_RULES } from "../../src/ops/alerts/rules.ts";
import { postgresReachable, testDatabaseUrl } from "./postgres.ts";

// These tests start a real stack over the machine's Postgres; without one they fail, never skip.
if (!(await postgresReachable(testDatabaseUrl()))) {
  throw new Error(`${import.meta.url}: needs Postgres at TEST_DATABASE_URL (default 127.0.0.1:5432)`);
}
const triage = (args: string[], env: Record<string, string | undefined> = {}) =>
  runScript("scripts/triage.ts", args, {
    env: { BACKEND_ADMIN_TOKEN: undefined, BACKEND_BASE_URL: undefined, ...env },
  });

/** A job dead-lettered now, an hour-old snapshot to measure growth from, and a fresh heartbeat. */
async function seedDeadLetter(stack: LocalStack) {
  const [account] = await stack.query("select account_id::text from create_account('triage-seed')");
  await stack.query("select * from grant_credits($1, 100, 'triage-seed', '{}')", [account?.account_id]);
  const [job] = await stack.query(
    "select job ->> 'id' as id from create_job('account', $1, 'triage-seed', repeat('b', 64), 'echo', '{\"message\":\"seed\"}', 10, 3)",
    [account?.account_id],
  );
  await stack.query(
    `insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h, heartbeat_age_s)
     values (date_trunc('minute', now()) - interval '61 minutes', 0, 0, 0, 0, 0, 10) on conflict do nothing`,
  );
  await stack.query(
    "insert into worker_heartbeats (role, deployment, seen_at) values ('worker', 'seed', now())",
  );
  await stack.query("select * from dead_letter_jobs(array[$1::uuid], 'attempts exhausted (seeded)')", [
    job?.id,
  ]);
}

describe("triage's runbooks", () => {
  it("every alert rule of src/ops/alerts/rules.ts has a severity, a cause and a runbook", () => {
    for (const rule of ALERT_RULES) expect(RULE_GUIDES, rule.name).toHaveProperty(rule.name);
  });

  it("every runbook triage points to is a section of the playbook", () => {
    const headings = readFileSync(join(import.meta.dirname, "../..", PLAYBOOK), "utf8")
      .split("\n")
      .filter((l) => /^#{2,3} /.test(l))
      .map((l) => githubSlug(l.replace(/^#+ /, "")));
    for (const anchor of playbookAnchors()) {
      expect(headings, anchor).toContain(anchor);
    }
  });
});

describe("npm run triage against a local stack", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  }, 120_000);
  afterAll(() => stack?.close(), 30_000);

  it("--help documents the exit codes by severity", async () => {
    const { code, output } = await triage(["--help"]);
    expect(code).toBe(0);
    expect(output).toMatch(/0 {2}everything ok/);
    expect(output).toMatch(/1 {2}warning/);
    expect(output).toMatch(/2 {2}critical/);
  });

  it("a healthy stack: every figure within its threshold, exit 0, and the token is never printed", async () => {
    const { code, output } = await triage(["--url", stack.url], { BACKEND_ADMIN_TOKEN: stack.adminToken });
    expect(code, output).toBe(0);
    expect(output).toContain("triage: OK (exit 0)");
    for (const rule of ALERT_RULES) expect(output).toMatch(new RegExp(`\\| ${rule.name} +\\| OK `));
    expect(output).toContain("thresholds from src/config defaults");
    expect(output).not.toContain(stack.adminToken);
  });

  it("without an admin token the metrics are skipped, not failed", async () => {
    const { code, output } = await triage(["--url", stack.url]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/\| metrics +\| SKIP /);
  });

  it("a wrong admin token is a warning naming the rotation runbook", async () => {
    const { code, output } = await triage(["--url", stack.url, "--token", "not-the-token"]);
    expect(code, output).toBe(1);
    expect(output).toContain(`${PLAYBOOK}#metrics-unavailable`);
  });

  it("a new dead letter: exit 1 (warning), its cause and its runbook", async () => {
    await seedDeadLetter(stack);
    const { code, output } = await triage(["--url", stack.url], { BACKEND_ADMIN_TOKEN: stack.adminToken });
    expect(code, output).toBe(1);
    expect(output).toMatch(/\| dead_letter_growth +\| WARN +\| dead_letter_growth_1h=1 \(threshold 1\)/);
    expect(output).toContain("exhausted their retries");
    expect(output).toContain(`runbook: ${PLAYBOOK}#dead-letter-growth`);
    expect(output).toContain("triage: WARNING (exit 1)");
  });

  it("the database down: exit 2 (critical), naming the database as the cause", async () => {
    await stack.stopDatabase();
    try {
      const { code, output } = await triage(["--url", stack.url], { BACKEND_ADMIN_TOKEN: stack.adminToken });
      expect(code, output).toBe(2);
      expect(output).toMatch(/\| ready: database +\| CRITICAL \| (unreachable|timed out)/);
      expect(output).toContain(`runbook: ${PLAYBOOK}#database-unreachable`);
      expect(output).toMatch(/\| metrics +\| CRITICAL /);
      expect(output).toContain("triage: CRITICAL (exit 2)");
      expect(output).not.toContain(stack.databaseUrl);
    } finally {
      await stack.startDatabase();
    }
  }, 60_000);

  it("a URL that does not answer: exit 2, the API down", async () => {
    const { code, output } = await triage(["--url", "http://127.0.0.1:9"]);
    expect(code, output).toBe(2);
    expect(output).toContain(`${PLAYBOOK}#api-down`);
  });
});
