import { describe, expect, it } from "vitest";
import { JOB_STATUSES } from "../../src/db/schema/jobs.ts";
import { createJob } from "../../src/jobs/store.ts";
import { call } from "../support/http.ts";
import { ledgerDatabase, makeAccount, rawSql } from "../support/ledger.ts";
import { countStatements } from "../support/statements.ts";
import { ADMIN, heartbeatAged, seedDeadLetter } from "./support.ts";

type Metrics = Record<string, unknown> & { jobs_by_status: Record<string, number> };

async function metricsJson(): Promise<Metrics> {
  const response = await call("/api/ops/metrics", { headers: ADMIN });
  expect(response.status).toBe(200);
  return (await response.json()) as Metrics;
}

type Sample = { name: string; labels: Record<string, string>; value: number };

/**
 * A strict reader of the Prometheus text exposition format (0.0.4): every sample belongs to a family
 * announced by exactly one `# HELP` and one `# TYPE` line before its first sample.
 */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.trimEnd().split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help?.[1]) {
      expect(helps.has(help[1]), `HELP twice for ${help[1]}`).toBe(false);
      helps.add(help[1]);
      continue;
    }
    if (type?.[1] && type[2]) {
      expect(types.has(type[1]), `TYPE twice for ${type[1]}`).toBe(false);
      types.set(type[1], type[2]);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(sample, `not a sample line: ${line}`).not.toBeNull();
    const [, name = "", rawLabels = "", rawValue = ""] = sample ?? [];
    expect(types.has(name) && helps.has(name), `${name}: sample before its HELP/TYPE`).toBe(true);
    const labels: Record<string, string> = {};
    for (const m of rawLabels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g))
      labels[m[1] ?? ""] = m[2] ?? "";
    const value =
      rawValue === "NaN"
        ? Number.NaN
        : rawValue === "+Inf"
          ? Infinity
          : rawValue === "-Inf"
            ? -Infinity
            : Number(rawValue);
    expect(rawValue === "NaN" || !Number.isNaN(value), `bad value in ${line}`).toBe(true);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

describe("GET /api/ops/metrics", () => {
  it("answers every figure in ONE database statement and one round trip", async () => {
    const counted = await countStatements(() => call("/api/ops/metrics", { headers: ADMIN }));
    expect(counted.result.status).toBe(200);
    expect(counted.statements).toBe(1);
    expect(counted.requests).toBe(1);
  });

  it("reports the jobs, dead letters, heartbeat, webhook failures and growth since an hour ago", async () => {
    const before = await metricsJson();
    expect(Object.keys(before).sort()).toEqual(
      [
        "worker_heartbeat_age_s",
        "webhook_failures_1h",
        "failed_jobs_1h",
        "queue_depth",
        "queue_growth_1h",
        "dead_letter_total",
        "dead_letter_growth_1h",
        "jobs_by_status",
        "reconcile_repairs_24h",
        "ledger_ok",
        "growth_since",
        "request_id",
      ].sort(),
    );
    // An hour-old snapshot: growth is measured from it.
    await rawSql(
      `insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h)
       values (date_trunc('minute', now()) - interval '61 minutes', $1, 0, $2, 0, 0)`,
      [before.queue_depth, before.dead_letter_total],
    );
    await seedDeadLetter();
    const { accountId } = await makeAccount({ balance: 50 });
    const queued = await createJob(ledgerDatabase(), {
      caller: { via: "account", accountId },
      idempotencyKey: `metrics-${crypto.randomUUID()}`,
      fingerprint: "b".repeat(64),
      type: "echo",
      input: {},
      cost: 10,
      maxAttempts: 3,
    });
    expect(queued.status).toBe("created");
    await heartbeatAged(30);
    await rawSql(
      "insert into webhook_failures (event_id, event_type, reason, detail) values ('evt_m1', 'checkout.session.completed', 'database_error', '08006')",
    );

    const after = await metricsJson();
    expect(after.queue_depth).toBe(Number(before.queue_depth) + 1);
    expect(after.queue_growth_1h).toBe(1);
    expect(after.dead_letter_total).toBe(Number(before.dead_letter_total) + 1);
    expect(after.dead_letter_growth_1h).toBe(1);
    expect(after.failed_jobs_1h).toBe(Number(before.failed_jobs_1h) + 1);
    expect(after.webhook_failures_1h).toBe(Number(before.webhook_failures_1h) + 1);
    expect(after.worker_heartbeat_age_s).toBeGreaterThanOrEqual(29);
    expect(after.worker_heartbeat_age_s).toBeLessThan(120);
    expect(after.jobs_by_status.queued).toBe(after.queue_depth);
    expect(after.jobs_by_status.dead_lettered).toBe(after.dead_letter_total);
    expect(Object.keys(after.jobs_by_status).sort()).toEqual([...JOB_STATUSES].sort());
    expect(after.reconcile_repairs_24h).toBe(0);
    expect(after.ledger_ok).toBe(true);
    expect(typeof after.request_id).toBe("string");
  });

  it("Accept: text/plain gives the same figures in the Prometheus text format, which parses", async () => {
    const json = await metricsJson();
    const response = await call("/api/ops/metrics", { headers: { ...ADMIN, accept: "text/plain" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const { types, samples } = parsePrometheus(await response.text());
    for (const name of types.keys()) expect(name.startsWith("tollgate_")).toBe(true);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(value("tollgate_queue_depth")).toBe(json.queue_depth);
    expect(value("tollgate_queue_growth_1h")).toBe(json.queue_growth_1h);
    expect(value("tollgate_dead_letters")).toBe(json.dead_letter_total);
    expect(value("tollgate_dead_letter_growth_1h")).toBe(json.dead_letter_growth_1h);
    expect(value("tollgate_failed_jobs_1h")).toBe(json.failed_jobs_1h);
    expect(value("tollgate_webhook_failures_1h")).toBe(json.webhook_failures_1h);
    expect(value("tollgate_reconcile_repairs_24h")).toBe(json.reconcile_repairs_24h);
    expect(value("tollgate_ledger_ok")).toBe(json.ledger_ok ? 1 : 0);
    expect(value("tollgate_worker_heartbeat_age_seconds")).toBeCloseTo(
      Number(json.worker_heartbeat_age_s),
      -1,
    );
    for (const status of JOB_STATUSES)
      expect(value("tollgate_jobs", { status })).toBe(json.jobs_by_status[status]);

    // What a Prometheus server sends gets text too; a JSON client keeps JSON.
    const scrape = await call("/api/ops/metrics", {
      headers: {
        ...ADMIN,
        accept: "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
      },
    });
    expect(scrape.headers.get("content-type")).toContain("text/plain");
    const plain = await call("/api/ops/metrics", {
      headers: { ...ADMIN, accept: "application/json, text/plain" },
    });
    expect(plain.headers.get("content-type")).toContain("application/json");
  });

  it("needs the admin token", async () => {
    expect((await call("/api/ops/metrics")).status).toBe(401);
    expect((await call("/api/ops/metrics", { headers: { accept: "text/plain" } })).status).toBe(401);
  });

  it("ledger_ok turns false when an invariant breaks (tampered running totals)", async () => {
    await rawSql(
      "update ledger_accounts set credits_posted = credits_posted + 7 where id = (select min(id) from ledger_accounts where kind = 'user')",
    );
    expect((await metricsJson()).ledger_ok).toBe(false);
    await rawSql(
      "update ledger_accounts set credits_posted = credits_posted - 7 where id = (select min(id) from ledger_accounts where kind = 'user')",
    );
    expect((await metricsJson()).ledger_ok).toBe(true);
  });
});
