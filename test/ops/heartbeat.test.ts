import { env } from "cloudflare:workers";
import { neon } from "@neondatabase/serverless";
import { beforeEach, describe, expect, it } from "vitest";
import { takeSnapshot } from "../../src/ops/snapshots.ts";
import { rawSql } from "../support/ledger.ts";
import { testServices } from "../support/services.ts";
import { countStatements } from "../support/statements.ts";
import { ADMIN, consume, fetchWith, heartbeatAged, opsEnv, RecordingQueue, tick } from "./support.ts";

type Heartbeat = { kind: string; sent_at: string; deployment: string };

async function heartbeats() {
  return rawSql<{ role: string; deployment: string }>(
    "select role, deployment from worker_heartbeats order by id",
  );
}

async function ready(overrides: Record<string, unknown> = {}) {
  const response = await fetchWith("/api/ready", {}, opsEnv(overrides));
  const body = (await response.json()) as {
    ok: boolean;
    status: string;
    checks: Record<string, { status: string; detail: string }>;
  };
  return { status: response.status, body };
}

beforeEach(async () => {
  await rawSql("delete from worker_heartbeats");
});

describe("heartbeat through the queue", () => {
  it("each tick sends {kind: heartbeat, sent_at, deployment} through JOBS_QUEUE", async () => {
    const queue = new RecordingQueue();
    const before = Date.now();
    await tick(opsEnv({}, queue));
    const sent = queue.drain() as Heartbeat[];
    const heartbeat = sent.find((m) => m.kind === "heartbeat");
    expect(heartbeat).toBeDefined();
    expect(Date.parse(heartbeat?.sent_at ?? "")).toBeGreaterThanOrEqual(before - 1000);
    expect(heartbeat?.deployment).toMatch(/^local\/all-in-one\/tollgate@/);
    // Sending is not receiving: nothing is recorded until a consumer takes the message.
    expect(await heartbeats()).toEqual([]);
  });

  it("the consumer records it with its own role and the sender's deployment; the metric is its age", async () => {
    const queue = new RecordingQueue();
    await tick(opsEnv({}, queue));
    const result = await consume(queue.drain(), opsEnv({ ROLE: "worker" }));
    expect(result.retryBatch.retry).toBe(false);
    expect(await heartbeats()).toEqual([
      { role: "worker", deployment: expect.stringMatching(/^local\/all-in-one\//) },
    ]);
    const metrics = (await (await fetchWith("/api/ops/metrics", { headers: ADMIN })).json()) as {
      worker_heartbeat_age_s: number;
    };
    expect(metrics.worker_heartbeat_age_s).toBeGreaterThanOrEqual(0);
    expect(metrics.worker_heartbeat_age_s).toBeLessThan(10);
  });

  it("a failed send fails the tick (so it is reported) while the other tasks still run", async () => {
    const queue = new RecordingQueue();
    queue.fail = true;
    await rawSql("delete from metric_snapshots");
    await expect(tick(opsEnv({}, queue))).rejects.toThrow(/ops\.heartbeat/);
    expect((await rawSql("select count(*)::int as n from metric_snapshots"))[0]?.n).toBe(1);
  });

  it("without Queues the legacy poller's cron records it directly, as role legacy-poller", async () => {
    await tick(opsEnv({ JOBS_QUEUE: undefined, LEGACY_QUEUE_WORKER_ENABLED: "true" }));
    expect(await heartbeats()).toEqual([
      { role: "legacy-poller", deployment: expect.stringMatching(/^local\//) },
    ]);
  });
});

describe("per-minute snapshots", () => {
  it("one statement per tick; a second run in the same minute writes nothing", async () => {
    await rawSql("delete from metric_snapshots");
    const first = await countStatements(() => takeSnapshot(testServices()));
    expect(first.statements).toBe(1);
    expect(first.result.taken).toBe(true);
    const second = await takeSnapshot(testServices());
    // Two crons in one minute, or a minute boundary passed between the two runs.
    expect(second.taken).toBe(second.minute !== first.result.minute);
    const rows = await rawSql<{ minute: string }>("select minute from metric_snapshots where minute = $1", [
      first.result.minute,
    ]);
    expect(rows).toHaveLength(1);
  });

  it("prunes snapshots, heartbeats and delivered notifications after 30 days, keeping the newest heartbeat", async () => {
    await rawSql("delete from metric_snapshots");
    await rawSql(
      "insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h) values (date_trunc('minute', now()) - interval '31 days', 1, 0, 0, 0, 0), (date_trunc('minute', now()) - interval '29 days', 2, 0, 0, 0, 0)",
    );
    await heartbeatAged(45 * 86400);
    await heartbeatAged(40 * 86400);
    await rawSql(
      "insert into alert_notifications (rule, event, summary, created_at, delivered_at) values ('old', 'firing', 'old', now() - interval '40 days', now() - interval '40 days'), ('undelivered', 'firing', 'kept', now() - interval '40 days', null)",
    );
    const outcome = await takeSnapshot(testServices());
    expect(outcome.pruned).toBe(1);
    expect((await rawSql("select count(*)::int as n from metric_snapshots"))[0]?.n).toBe(2);
    // The newest heartbeat stays however old, so the age keeps growing instead of becoming "never".
    expect((await rawSql("select count(*)::int as n from worker_heartbeats"))[0]?.n).toBe(1);
    expect(
      (await rawSql("select rule from alert_notifications where rule in ('old', 'undelivered')")).map(
        (r) => r.rule,
      ),
    ).toEqual(["undelivered"]);
  });
});

describe("/api/ready heartbeat check", () => {
  it("warns (still ok, 200) on a consumer role when the heartbeat is older than HEARTBEAT_STALE_AFTER_S", async () => {
    await heartbeatAged(1000);
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.status).toBe("warn");
    expect(body.checks.heartbeat?.status).toBe("warn");
    expect(body.checks.heartbeat?.detail).toContain("stale after 180 s");
  });

  it("passes with a fresh heartbeat, using the configured threshold", async () => {
    await heartbeatAged(100);
    expect((await ready()).body.checks.heartbeat?.status).toBe("pass");
    expect((await ready({ HEARTBEAT_STALE_AFTER_S: "60" })).body.checks.heartbeat?.status).toBe("warn");
  });

  it("is absent on the web role, where no consumer is expected", async () => {
    await heartbeatAged(1000);
    const { body } = await ready({ MVP_WORKER_ENABLED: "false", ROLE: "web" });
    expect(body.checks.heartbeat).toBeUndefined();
    expect(body.status).toBe("pass");
  });

  it("a schema too old to have heartbeats reads as behind (not as no migrations), heartbeat unknown", async () => {
    const adminUrl = String((env as unknown as Record<string, unknown>).TEST_ADMIN_DATABASE_URL);
    const admin = neon(adminUrl);
    const name = `tollgate_old_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    await admin.query(`create database "${name}"`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      const old = neon(url.toString());
      await old.query("create schema drizzle");
      await old.query(
        "create table drizzle.__drizzle_migrations (id serial primary key, hash text, created_at bigint)",
      );
      await old.query("insert into drizzle.__drizzle_migrations (hash, created_at) values ('x', 1)");
      const { body } = await ready({ DATABASE_URL: url.toString() });
      expect(body.checks.database?.status).toBe("pass");
      expect(body.checks.schema).toMatchObject({ status: "fail", detail: expect.stringContaining("behind") });
      expect(body.checks.heartbeat?.status).toBe("warn");
    } finally {
      await admin.query(`drop database if exists "${name}" with (force)`);
    }
  });

  it("stays ONE statement with the heartbeat folded into its query", async () => {
    await heartbeatAged(5);
    const counted = await countStatements(() => fetchWith("/api/ready"));
    expect(counted.result.status).toBe(200);
    expect(counted.statements).toBe(1);
  });
});
