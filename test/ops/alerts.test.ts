import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rawSql } from "../support/ledger.ts";
import {
  ALERT_SINK,
  ageAlertState,
  alertSink,
  baselineSnapshot,
  consume,
  heartbeatAged,
  opsEnv,
  RecordingQueue,
  type SlackMessage,
  seedDeadLetter,
  tick,
} from "./support.ts";

/**
 * Alerts end to end: the Worker's `scheduled` export (the every-minute tick), the alert state in
 * Postgres, and the webhook — a `fetch` spy inside workerd standing in for Slack (see alertSink()).
 */
let sinkHandle: ReturnType<typeof alertSink>;
beforeEach(async () => {
  sinkHandle = alertSink();
  // Each test starts from a quiet system: no alert history, a fresh heartbeat.
  for (const table of ["alert_notifications", "alert_state", "worker_heartbeats", "metric_snapshots"]) {
    await rawSql(`delete from ${table}`);
  }
  await heartbeatAged(0);
  await baselineSnapshot();
});
afterEach(() => sinkHandle.restore());

const about = (rule: string) => (m: SlackMessage) => m.text.includes(rule);
const HEARTBEAT = "Worker heartbeat";

async function notificationRows() {
  return rawSql<{
    rule: string;
    event: string;
    delivered_at: string | null;
    attempts: number;
    last_error: string | null;
  }>("select rule, event, delivered_at, attempts, last_error from alert_notifications order by id");
}

describe("alert rules, evaluated by the every-minute cron", () => {
  it("stop the consumer → the heartbeat alert fires ONCE; restart it → ONE recovery (after the cooldown)", async () => {
    const { sink } = sinkHandle;
    const queue = new RecordingQueue();
    const env = opsEnv({ MONITOR_ALERT_WEBHOOK_URL: ALERT_SINK }, queue);

    // The consumer stopped ten minutes ago: its newest heartbeat is that old.
    await rawSql("delete from worker_heartbeats");
    await heartbeatAged(600);
    await tick(env);
    let heartbeat = sink.received.filter(about(HEARTBEAT));
    expect(heartbeat).toHaveLength(1);
    expect(heartbeat[0]?.text).toContain("[FIRING]");
    expect(heartbeat[0]?.blocks).toBeDefined();

    // Still stale a minute later: nothing new.
    await tick(env);
    expect(sink.received.filter(about(HEARTBEAT))).toHaveLength(1);

    // The consumer is back: it records the heartbeats the cron sent through the queue meanwhile.
    const sent = queue.drain();
    expect(sent.filter((m) => (m as { kind?: string }).kind === "heartbeat").length).toBeGreaterThanOrEqual(
      2,
    );
    await consume(sent, env);
    await tick(env);
    // Within the cooldown the rule may not change again: no recovery yet, still firing.
    expect(sink.received.filter(about(HEARTBEAT))).toHaveLength(1);
    expect((await rawSql("select status from alert_state where rule = 'worker_heartbeat'"))[0]?.status).toBe(
      "firing",
    );

    await ageAlertState(601);
    await tick(env);
    heartbeat = sink.received.filter(about(HEARTBEAT));
    expect(heartbeat).toHaveLength(2);
    expect(heartbeat[1]?.text).toContain("[RESOLVED]");
    await tick(env);
    await tick(env);
    expect(sink.received.filter(about(HEARTBEAT))).toHaveLength(2);
    expect((await rawSql("select status from alert_state where rule = 'worker_heartbeat'"))[0]?.status).toBe(
      "ok",
    );
  });

  it("the webhook down: the cron still succeeds, the notification is retried next tick and sent once", async () => {
    const { sink } = sinkHandle;
    const env = opsEnv({ MONITOR_ALERT_WEBHOOK_URL: ALERT_SINK });
    await seedDeadLetter();

    sink.status = 503;
    await expect(tick(env)).resolves.toBeUndefined();
    let rows = await notificationRows();
    expect(rows.filter((r) => r.rule === "dead_letter_growth")).toMatchObject([
      { event: "firing", delivered_at: null, attempts: 1, last_error: "http_503" },
    ]);

    sink.down = true;
    await expect(tick(env)).resolves.toBeUndefined();
    rows = await notificationRows();
    expect(rows.find((r) => r.rule === "dead_letter_growth")).toMatchObject({
      attempts: 2,
      last_error: "TypeError",
    });
    expect(sink.received).toHaveLength(0);

    sink.down = false;
    sink.status = 200;
    await tick(env);
    await tick(env);
    const delivered = sink.received.filter(about("New dead letters"));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.text).toContain("[FIRING]");
    rows = await notificationRows();
    expect(rows.find((r) => r.rule === "dead_letter_growth")).toMatchObject({
      attempts: 3,
      last_error: null,
    });
    expect(rows.find((r) => r.rule === "dead_letter_growth")?.delivered_at).not.toBeNull();
  });

  it("a rule's recovery waits for its undelivered firing: the receiver never sees them out of order", async () => {
    const { sink } = sinkHandle;
    const env = opsEnv({ MONITOR_ALERT_WEBHOOK_URL: ALERT_SINK });
    await rawSql("delete from worker_heartbeats");
    await heartbeatAged(900);
    sink.refuse = (m) => m.text.includes("[FIRING]");
    await tick(env);
    // The consumer is back and the cooldown has passed: the recovery is recorded behind the firing.
    await heartbeatAged(0);
    await ageAlertState(601);
    await tick(env);
    expect(sink.received.filter(about(HEARTBEAT))).toEqual([]);
    const rows = (await notificationRows()).filter((r) => r.rule === "worker_heartbeat");
    expect(rows.map((r) => [r.event, r.last_error])).toEqual([
      ["firing", "http_503"],
      ["resolved", "waiting_for_earlier"],
    ]);

    sink.refuse = undefined;
    await tick(env);
    expect(sink.received.filter(about(HEARTBEAT)).map((m) => m.text.includes("[FIRING]"))).toEqual([
      true,
      false,
    ]);
  });

  it("two crons evaluating at the same moment send the firing once", async () => {
    const { sink } = sinkHandle;
    const env = opsEnv({ MONITOR_ALERT_WEBHOOK_URL: ALERT_SINK });
    await rawSql("delete from worker_heartbeats");
    await heartbeatAged(900);
    await Promise.all([tick(env), tick(env), tick(env)]);
    await tick(env);
    expect(sink.received.filter(about(HEARTBEAT))).toHaveLength(1);
    expect((await notificationRows()).filter((r) => r.rule === "worker_heartbeat")).toHaveLength(1);
  });

  it("the transition is claimed in one statement: concurrent evaluations record one notification", async () => {
    const evaluation = JSON.stringify([
      { rule: "race", breached: true, value: 1, threshold: 1, summary: "race" },
    ]);
    const claims = await Promise.all(
      Array.from({ length: 8 }, () =>
        rawSql<{ id: string }>("select id from record_alert_evaluations($1::jsonb, 600, 50)", [evaluation]),
      ),
    );
    // Exactly one caller leased it for delivery, and there is exactly one notification to deliver.
    expect(claims.flat().length).toBe(1);
    expect((await notificationRows()).filter((r) => r.rule === "race")).toHaveLength(1);
  });

  it("ledger drift fires (and resolves) like every other rule", async () => {
    const { sink } = sinkHandle;
    const env = opsEnv({ MONITOR_ALERT_WEBHOOK_URL: ALERT_SINK });
    const tamper = (delta: number) =>
      rawSql(
        "update ledger_accounts set credits_posted = credits_posted + $1 where id = (select min(id) from ledger_accounts where kind = 'user')",
        [delta],
      );
    await seedDeadLetter(); // makes sure a user ledger account exists
    await tamper(3);
    try {
      await tick(env);
      expect(sink.received.filter(about("Ledger invariants broken"))).toHaveLength(1);
    } finally {
      await tamper(-3);
    }
    await ageAlertState(601);
    await tick(env);
    const drift = sink.received.filter(about("Ledger invariants broken"));
    expect(drift.map((m) => m.text.includes("[RESOLVED]"))).toEqual([false, true]);
  });

  it("without MONITOR_ALERT_WEBHOOK_URL a notification is logged and done, not retried forever", async () => {
    const env = opsEnv({ MONITOR_ALERT_WEBHOOK_URL: "" });
    await seedDeadLetter();
    await tick(env);
    const rows = await notificationRows();
    expect(rows.find((r) => r.rule === "dead_letter_growth")?.delivered_at).not.toBeNull();
    expect(sinkHandle.sink.attempts).toBe(0);
  });
});
