import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../scripts/lib/stack.ts";
import { postgresReachable, testDatabaseUrl } from "./postgres.ts";

/**
 * README "Stop the consumer → one alert; restart → one recovery", end to end against `wrangler dev`
 * (the real bundle, local queue, cron via --test-scheduled) and a local alert receiver. The all-in-one
 * Worker cannot pause its queue on its own, so the consumer is stopped by restarting `wrangler dev` with
 * MVP_WORKER_ENABLED=false (runQueue then leaves every message for "the real consumer") and brought
 * back by restarting it with MVP_WORKER_ENABLED=true, on the same database.
 */
// These tests start a real stack over the machine's Postgres; without one they fail, never skip.
if (!(await postgresReachable(testDatabaseUrl()))) {
  throw new Error(`${import.meta.url}: needs Postgres at TEST_DATABASE_URL (default 127.0.0.1:5432)`);
}

/** Small thresholds (the schema takes any positive integer). */
const STALE_AFTER_S = 4;
const COOLDOWN_S = 12;
const RULE = "worker_heartbeat";

type Received = { at: number; text: string; context: string };

/** A Slack-compatible receiver on 127.0.0.1: records every POST with the time it arrived; answers 200. */
async function startSink() {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const message = JSON.parse(body) as {
        text: string;
        blocks: { type: string; elements?: { text: string }[] }[];
      };
      const context = message.blocks.find((b) => b.type === "context")?.elements?.[0]?.text ?? "";
      received.push({ at: Date.now(), text: message.text, context });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/heartbeat-sink`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("stop the consumer → one alert; restart → one recovery (wrangler dev)", () => {
  let stack: LocalStack | undefined;
  let sink: Awaited<ReturnType<typeof startSink>> | undefined;

  beforeAll(async () => {
    sink = await startSink();
    // Phase 1 runs with the default threshold (180 s): the very first tick, before any heartbeat, must
    // not count "no heartbeat for longer than the threshold" against a stack a few seconds old.
    stack = await startLocalStack({
      stripe: false,
      vars: {
        MVP_WORKER_ENABLED: "true",
        ALERT_COOLDOWN_S: String(COOLDOWN_S),
        MONITOR_ALERT_WEBHOOK_URL: sink.url,
      },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await sink?.close();
  }, 30_000);

  it("fires once while the consumer is down and resolves once after it is back", async () => {
    const s = stack as LocalStack;
    const receiver = sink as NonNullable<typeof sink>;
    const heartbeatNotices = () => receiver.received.filter((r) => r.context.includes(`rule \`${RULE}\``));
    const events = () => heartbeatNotices().map((r) => (r.text.includes("[FIRING]") ? "firing" : "resolved"));

    const tick = async () => expect(await s.scheduled()).toBe(200);
    const heartbeatAge = async (): Promise<number | null> => {
      const response = await fetch(`${s.url}/api/ops/metrics`, {
        headers: { authorization: `Bearer ${s.adminToken}` },
        signal: AbortSignal.timeout(5000),
      });
      expect(response.status).toBe(200);
      return ((await response.json()) as { worker_heartbeat_age_s: number | null }).worker_heartbeat_age_s;
    };
    /** Polls `check` every 250 ms for at most `ms`; answers its last value. */
    const poll = async <T>(check: () => Promise<T>, done: (v: T) => boolean, ms: number): Promise<T> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const value = await check();
        if (done(value) || Date.now() > deadline) return value;
        await sleep(250);
      }
    };
    /** Ticks about once a second until `done()` holds, for at most `ms`. */
    const tickUntil = async (done: () => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!done() && Date.now() < deadline) {
        await tick();
        if (!done()) await sleep(1000);
      }
    };

    // 1. The consumer is up: a tick's heartbeat goes through the queue and is recorded within seconds.
    await tick();
    const fresh = await poll(heartbeatAge, (age) => age !== null && age < 2, 10_000);
    expect(fresh, "the consumer recorded the tick's heartbeat").not.toBeNull();
    expect(fresh as number).toBeLessThan(2);
    expect(heartbeatNotices()).toEqual([]);

    // 2. Stop the consumer: the same database, messages now left in the queue. A small threshold.
    await s.restart({ MVP_WORKER_ENABLED: "false", HEARTBEAT_STALE_AFTER_S: String(STALE_AFTER_S) });
    await tickUntil(() => heartbeatNotices().length > 0, (STALE_AFTER_S + 15) * 1000);
    expect(events()).toEqual(["firing"]);
    const firing = heartbeatNotices()[0] as Received;
    expect(firing.text).toContain("[FIRING] Worker heartbeat");
    expect(firing.text).toContain(`(threshold ${STALE_AFTER_S} s)`);

    const stale = (await heartbeatAge()) as number;
    expect(stale).toBeGreaterThan(STALE_AFTER_S);
    // Further ticks: their heartbeats are not consumed, the age keeps growing, nothing more is sent.
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      await tick();
    }
    expect((await heartbeatAge()) as number).toBeGreaterThan(stale);
    expect(events()).toEqual(["firing"]);

    // 3. Restart the consumer: the next tick's heartbeat is recorded, the age drops to seconds.
    await s.restart({ MVP_WORKER_ENABLED: "true" });
    await tick();
    const back = await poll(heartbeatAge, (age) => age !== null && age < STALE_AFTER_S, 10_000);
    expect(back as number).toBeLessThan(STALE_AFTER_S);

    // One recovery, once the cooldown since the firing has passed; none after it.
    await tickUntil(() => heartbeatNotices().length > 1, (COOLDOWN_S + 15) * 1000);
    expect(events()).toEqual(["firing", "resolved"]);
    const resolved = heartbeatNotices()[1] as Received;
    expect(resolved.text).toContain("[RESOLVED] Worker heartbeat");
    expect(resolved.text).toContain("back to normal");
    expect(resolved.at - firing.at).toBeGreaterThanOrEqual((COOLDOWN_S - 1) * 1000);
    for (let i = 0; i < 3; i++) {
      await sleep(500);
      await tick();
    }
    expect(events()).toEqual(["firing", "resolved"]);
    expect((await heartbeatAge()) as number).toBeLessThan(STALE_AFTER_S);
    console.log(
      `heartbeat-alert: firing→resolved ${((resolved.at - firing.at) / 1000).toFixed(1)} s; all notices: ${JSON.stringify(receiver.received.map((r) => r.text))}`,
    );
  }, 90_000);
});
