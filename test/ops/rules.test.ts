import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { ALERT_RULES, evaluateRules } from "../../src/ops/alerts/rules.ts";
import type { OpsMetrics } from "../../src/ops/metrics.ts";

const NOW = new Date("2026-11-28T12:00:00.000Z");

function config(overrides: Record<string, string> = {}) {
  const result = loadConfig({ ...env, ...overrides });
  if (!result.config) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function quiet(overrides: Partial<OpsMetrics> = {}): OpsMetrics {
  return {
    worker_heartbeat_age_s: 10,
    webhook_failures_1h: 0,
    failed_jobs_1h: 0,
    queue_depth: 0,
    queue_growth_1h: 0,
    dead_letter_total: 0,
    dead_letter_growth_1h: 0,
    jobs_by_status: {
      queued: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      dead_lettered: 0,
      canceled: 0,
      expired: 0,
    },
    reconcile_repairs_24h: 0,
    ledger_ok: true,
    growth_since: "2026-11-28T10:59:00.000Z",
    ...overrides,
  };
}

const breached = (metrics: OpsMetrics, cfg = config(), now = NOW) =>
  evaluateRules(metrics, cfg, now)
    .filter((e) => e.breached)
    .map((e) => e.rule);

describe("alert rules", () => {
  it("cover the checklist's five checks plus ledger drift and reconciliation repairs", () => {
    expect(ALERT_RULES.map((r) => r.name).sort()).toEqual(
      [
        "webhook_failures",
        "failed_jobs",
        "worker_heartbeat",
        "queue_growth",
        "dead_letter_growth",
        "ledger_drift",
        "reconcile_repairs",
      ].sort(),
    );
    expect(breached(quiet())).toEqual([]);
  });

  it("have sane defaults when no threshold is configured", () => {
    const c = config();
    expect({
      webhook: c.ALERT_WEBHOOK_FAILURES_1H,
      failed: c.ALERT_FAILED_JOBS_1H,
      queue: c.ALERT_QUEUE_GROWTH_1H,
      deadLetters: c.ALERT_DEAD_LETTER_GROWTH_1H,
      repairs: c.ALERT_RECONCILE_REPAIRS_24H,
      heartbeat: c.HEARTBEAT_STALE_AFTER_S,
      cooldown: c.ALERT_COOLDOWN_S,
    }).toEqual({
      webhook: 5,
      failed: 10,
      queue: 100,
      deadLetters: 1,
      repairs: 1,
      heartbeat: 180,
      cooldown: 600,
    });
    expect(loadConfig({ ...env, ALERT_FAILED_JOBS_1H: "-1" }).ok).toBe(false);
    expect(loadConfig({ ...env, ALERT_COOLDOWN_S: "soon" }).ok).toBe(false);
  });

  it.each([
    ["webhook_failures", "ALERT_WEBHOOK_FAILURES_1H", (n: number) => quiet({ webhook_failures_1h: n })],
    ["failed_jobs", "ALERT_FAILED_JOBS_1H", (n: number) => quiet({ failed_jobs_1h: n })],
    ["queue_growth", "ALERT_QUEUE_GROWTH_1H", (n: number) => quiet({ queue_growth_1h: n })],
    ["dead_letter_growth", "ALERT_DEAD_LETTER_GROWTH_1H", (n: number) => quiet({ dead_letter_growth_1h: n })],
    ["reconcile_repairs", "ALERT_RECONCILE_REPAIRS_24H", (n: number) => quiet({ reconcile_repairs_24h: n })],
  ] as const)("%s fires at its configured threshold (%s), not below", (rule, variable, at) => {
    const cfg = config({ [variable]: "7" });
    expect(breached(at(6), cfg)).toEqual([]);
    expect(breached(at(7), cfg)).toEqual([rule]);
    expect(breached(at(70), cfg)).toEqual([rule]);
  });

  it("worker_heartbeat fires when the heartbeat is older than HEARTBEAT_STALE_AFTER_S", () => {
    const cfg = config({ HEARTBEAT_STALE_AFTER_S: "120" });
    expect(breached(quiet({ worker_heartbeat_age_s: 120 }), cfg)).toEqual([]);
    expect(breached(quiet({ worker_heartbeat_age_s: 121 }), cfg)).toEqual(["worker_heartbeat"]);
  });

  it("worker_heartbeat: none at all fires once the cron has run longer than the threshold, not on a fresh deploy", () => {
    const cfg = config({ HEARTBEAT_STALE_AFTER_S: "180" });
    const never = (since: string | null) => quiet({ worker_heartbeat_age_s: null, growth_since: since });
    expect(breached(never(null), cfg)).toEqual([]);
    expect(breached(never("2026-11-28T11:58:00.000Z"), cfg)).toEqual([]);
    expect(breached(never("2026-11-28T11:50:00.000Z"), cfg)).toEqual(["worker_heartbeat"]);
  });

  it("ledger_drift fires whenever ledger_ok is false, whatever the thresholds", () => {
    expect(breached(quiet({ ledger_ok: false }))).toEqual(["ledger_drift"]);
  });

  it("summaries name the figure and the threshold, and say when a rule is back to normal", () => {
    const [firing] = evaluateRules(quiet({ failed_jobs_1h: 12 }), config(), NOW).filter(
      (e) => e.rule === "failed_jobs",
    );
    expect(firing).toMatchObject({ breached: true, value: 12, threshold: 10 });
    expect(firing?.summary).toBe("Failed jobs: 12 in the last hour (threshold 10)");
    const [ok] = evaluateRules(quiet(), config(), NOW).filter((e) => e.rule === "failed_jobs");
    expect(ok?.summary).toContain("back to normal");
  });
});
