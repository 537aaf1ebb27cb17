import { mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../scripts/lib/stack.ts";
import { postgresReachable, testDatabaseUrl, withDatabase } from "./postgres.ts";

/**
 * The /ops console in a real browser: `wrangler dev` (the real bundle, local queues) over the local
 * Neon server and a fresh migrated database, driven by Debian's headless Chromium. Writes screenshots
 * to test-results/ (git-ignored).
 */
const ADMIN_TOKEN = "console-test-admin-token-0123456789abcdef";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

// These tests start a real stack over the machine's Postgres; without one they fail, never skip.
if (!(await postgresReachable(testDatabaseUrl()))) {
  throw new Error(`${import.meta.url}: needs Postgres at TEST_DATABASE_URL (default 127.0.0.1:5432)`);
}

/** A dead letter, a fresh heartbeat, a firing alert and 24 hours of snapshots with some movement. */
async function seed(url: string) {
  return withDatabase(url, async (db) => {
    const account = await db.query("select account_id::text from create_account('console-user')");
    const accountId = account.rows[0].account_id as string;
    await db.query("select * from grant_credits($1, 100, 'console-seed', '{}')", [accountId]);
    const job = await db.query(
      "select job ->> 'id' as id from create_job('account', $1, 'console-seed', repeat('a', 64), 'echo', '{\"message\":\"seed\"}', 10, 3)",
      [accountId],
    );
    const jobId = job.rows[0].id as string;
    await db.query("select * from dead_letter_jobs(array[$1::uuid], 'attempts exhausted (seeded)')", [jobId]);
    await db.query(
      "insert into worker_heartbeats (role, deployment, seen_at) values ('worker', 'seed', now() - interval '30 seconds')",
    );
    await db.query(
      `insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h, heartbeat_age_s)
       select date_trunc('minute', now()) - make_interval(mins => 5 * i), (10 + 8 * sin(i / 12.0))::int, 0, 1,
         (i % 7)::int, (i % 3)::int, 20 + 15 * cos(i / 20.0)
       from generate_series(1, 280) as i`,
    );
    await db.query(
      "insert into alert_state (rule, status, value, threshold, summary, changed_at) values ('failed_jobs', 'firing', 12, 10, 'Failed jobs: 12 in the last hour (threshold 10)', now())",
    );
    return { jobId };
  });
}

describe("the /ops console in headless Chromium", () => {
  let stack: LocalStack | undefined;
  let url = "";
  let browser: Browser | undefined;
  let base = "";
  let deadJobId = "";

  beforeAll(async () => {
    stack = await startLocalStack({ stripe: false, adminToken: ADMIN_TOKEN, allowOwnOrigin: false });
    url = stack.databaseUrl;
    base = stack.url;
    deadJobId = (await seed(url)).jobId;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  }, 30_000);

  it("signs in with ?token=, shows the figures and the SVG charts, and retries a dead letter", async () => {
    if (!browser) throw new Error("no browser");
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    mkdirSync("test-results", { recursive: true });

    const response = await page.goto(`${base}/ops?token=${ADMIN_TOKEN}`);
    expect(response?.status()).toBe(200);
    // The token is exchanged for a cookie and gone from the address bar.
    expect(page.url()).toBe(`${base}/ops`);
    const [cookie] = await context.cookies(`${base}/ops`);
    expect(cookie).toMatchObject({ name: "tollgate_ops", httpOnly: true, sameSite: "Strict", path: "/ops" });
    expect(cookie?.value).not.toContain(ADMIN_TOKEN);

    await expect(page.locator('[data-metric="dead_letter_total"] dd').textContent()).resolves.toBe("1");
    await expect(page.locator('[data-metric="queue_depth"] dd').textContent()).resolves.toBe("0");
    await expect(page.locator('[data-metric="ledger_ok"] dd').textContent()).resolves.toBe("ok");
    const age = Number(await page.locator('[data-metric="worker_heartbeat_age_s"] dd').textContent());
    expect(age).toBeGreaterThanOrEqual(29);

    for (const chart of ["queue_depth", "failures", "heartbeat_age"]) {
      const figure = page.locator(`figure[data-chart="${chart}"]`);
      await expect(figure.locator("svg").count()).resolves.toBe(1);
      expect(await figure.locator("polyline").count()).toBeGreaterThan(0);
      const box = await figure.locator("svg").boundingBox();
      expect(box?.width ?? 0).toBeGreaterThan(200);
      const points = (await figure.locator("polyline").first().getAttribute("points")) ?? "";
      expect(points.split(" ").length).toBeGreaterThan(200);
    }
    await expect(page.locator('tr.firing[data-rule="failed_jobs"]').count()).resolves.toBe(1);
    await page.screenshot({ path: "test-results/ops-console.png", fullPage: true });

    const row = page.locator(`tr[data-dead-letter="${deadJobId}"]`);
    await expect(row.count()).resolves.toBe(1);
    await Promise.all([
      page.waitForURL(/notice=retried/),
      row.getByRole("button", { name: "Retry" }).click(),
    ]);
    await expect(page.locator(".notice.ok").textContent()).resolves.toContain("with a new hold");
    await expect(page.locator(`tr[data-dead-letter="${deadJobId}"]`).count()).resolves.toBe(0);
    await page.screenshot({ path: "test-results/ops-console-after-retry.png", fullPage: true });

    const retried = await withDatabase(url, (db) =>
      db.query(
        "select r.retry_job_id::text, t.status as hold from dead_letter_retries r join jobs j on j.id = r.retry_job_id join transfers t on t.id = j.hold_id where r.job_id = $1",
        [deadJobId],
      ),
    );
    expect(retried.rows).toHaveLength(1);
    // A new hold was placed for the retry (pending, or already captured if the local consumer ran it).
    expect(["pending", "posted"]).toContain(retried.rows[0].hold);
    await context.close();
  });
});
