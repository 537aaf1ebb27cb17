import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import * as Sentry from "@sentry/cloudflare";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../src/errors/api-error.ts";
import { captureServerError, withTelemetry } from "../../src/telemetry/sentry.ts";
import { rawSql } from "../support/ledger.ts";
import { API_KEY, COOKIE, DATABASE_PASSWORD, EMAIL, STRIPE_SIGNATURE } from "./secrets.ts";
import {
  ADMIN,
  ALERT_SINK,
  fetchWith,
  heartbeatAged,
  opsEnv,
  RecordingQueue,
  seedDeadLetter,
  tick,
} from "./support.ts";

/**
 * Sentry events as they leave the Worker: SENTRY_DSN points at a host that only exists here, and a
 * `fetch` spy takes the SDK's envelope requests (everything else goes through). So these tests see
 * what Sentry would receive, after `beforeSend`, through the real transport.
 */
const DSN = "https://publickey0123@sentry.tollgate.test/42";

type SentryEvent = Record<string, unknown> & {
  tags?: Record<string, string>;
  release?: string;
  environment?: string;
  message?: string | { formatted?: string };
  level?: string;
};

let events: SentryEvent[] = [];
let spy: ReturnType<typeof vi.spyOn>;
/** The alert webhook's answer, for the test that also needs it (one spy serves both). */
const alertWebhook = { status: 200, received: 0 };

beforeEach(() => {
  events = [];
  alertWebhook.status = 200;
  alertWebhook.received = 0;
  const original = globalThis.fetch;
  spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.startsWith(ALERT_SINK)) {
      if (alertWebhook.status < 300) alertWebhook.received += 1;
      return new Response(null, { status: alertWebhook.status });
    }
    if (!url.startsWith("https://sentry.tollgate.test/")) return original(input, init);
    const body =
      typeof init?.body === "string" ? init.body : new TextDecoder().decode(init?.body as Uint8Array);
    const lines = body.split("\n");
    for (let i = 1; i + 1 < lines.length; i += 2) {
      const header = JSON.parse(lines[i] ?? "{}") as { type?: string };
      if (header.type === "event") events.push(JSON.parse(lines[i + 1] ?? "{}") as SentryEvent);
    }
    return new Response("{}", { status: 200 });
  });
});
afterEach(() => spy.mockRestore());

const withDsn = (overrides: Record<string, unknown> = {}) =>
  opsEnv({ SENTRY_DSN: DSN, SENTRY_RELEASE: "tollgate@test-release", ...overrides });
const unreachable = { LOCAL_NEON_URL: "http://127.0.0.1:1" };

describe("Sentry", () => {
  it("an unknown error → exactly one event, with the request id, release and environment", async () => {
    const response = await fetchWith("/api/ops/metrics", { headers: ADMIN }, withDsn(unreachable));
    expect(response.status).toBe(500);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.tags?.request_id).toBe(response.headers.get("x-request-id"));
    expect(event?.tags?.role).toBe("all-in-one");
    expect(event?.tags?.route).toBe("/api/ops/metrics");
    expect(event?.release).toBe("tollgate@test-release");
    expect(event?.environment).toBe("local");
  });

  it("a 4xx is never reported", async () => {
    expect((await fetchWith("/api/ops/metrics", {}, withDsn(unreachable))).status).toBe(401);
    expect((await fetchWith("/api/nothing-here", {}, withDsn())).status).toBe(404);
    const invalid = await fetchWith(
      "/api/ops/dead-letters/not-a-uuid/retry",
      { method: "POST", headers: ADMIN },
      withDsn(),
    );
    expect(invalid.status).toBe(400);
    expect(events).toEqual([]);
  });

  it("captureServerError reports a 5xx or unknown error and never a 4xx, whoever calls it", async () => {
    const worker = withTelemetry({
      fetch: async (request, env) => {
        const status = new URL(request.url).searchParams.get("status");
        const error =
          status === "404"
            ? new ApiError("not_found")
            : status === "503"
              ? new ApiError("service_unavailable")
              : new Error("unknown");
        captureServerError(env, error, { requestId: "req_capture_test_0001" });
        return new Response(null, { status: 204 });
      },
      queue: async () => {},
      scheduled: async () => {},
    });
    for (const status of ["404", "503", "none"]) {
      const ctx = createExecutionContext();
      await worker.fetch(new Request(`http://tollgate.test/?status=${status}`), withDsn(), ctx);
      await waitOnExecutionContext(ctx);
    }
    expect(events.map((e) => e.tags?.status)).toEqual(["503", "500"]);
    expect(events.every((e) => e.tags?.request_id === "req_capture_test_0001")).toBe(true);
  });

  it("a failed cron tick is reported once, tagged with its invocation id", async () => {
    const queue = new RecordingQueue();
    queue.fail = true;
    await expect(tick(withDsn({ JOBS_QUEUE: queue }))).rejects.toThrow(/ops\.heartbeat/);
    expect(events).toHaveLength(1);
    expect(events[0]?.tags?.request_id).toMatch(/^cron_[0-9a-f]{32}$/);
  });

  it("without SENTRY_DSN nothing is sent", async () => {
    expect((await fetchWith("/api/ops/metrics", { headers: ADMIN }, opsEnv(unreachable))).status).toBe(500);
    const queue = new RecordingQueue();
    queue.fail = true;
    await expect(tick(opsEnv({ JOBS_QUEUE: queue }))).rejects.toThrow();
    expect(events).toEqual([]);
    const urls = (spy.mock.calls as [RequestInfo | URL][]).map(([input]) =>
      input instanceof Request ? input.url : String(input),
    );
    expect(urls.some((url) => url.includes("sentry"))).toBe(false);
  });

  it("each alert notification reaches Sentry once, however often the webhook is retried", async () => {
    await rawSql("delete from alert_notifications");
    await rawSql("delete from alert_state");
    await rawSql(
      `insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h)
       select date_trunc('minute', now()) - interval '61 minutes', f.queue_depth, f.running, f.dead_letter_total, 0, 0
       from ops_current_figures() f on conflict (minute) do nothing`,
    );
    await seedDeadLetter();
    await heartbeatAged(0);
    const tickEnv = withDsn({ MONITOR_ALERT_WEBHOOK_URL: ALERT_SINK });
    // Another event between the ticks, so the SDK's dedupe (same as the previous event) cannot hide a repeat.
    const somethingElse = () => fetchWith("/api/ops/metrics", { headers: ADMIN }, withDsn(unreachable));
    alertWebhook.status = 500;
    await tick(tickEnv);
    await somethingElse();
    await tick(tickEnv);
    await somethingElse();
    alertWebhook.status = 200;
    await tick(tickEnv);
    const alerts = events.filter((e) => e.tags?.alert_rule === "dead_letter_growth");
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.level).toBe("error");
    expect(alerts[0]?.tags?.alert_event).toBe("firing");
    expect(alertWebhook.received).toBe(1);
  });

  it("scrubs Authorization, Cookie, Set-Cookie, Stripe-Signature, API keys, admin tokens and e-mail addresses from a real event", async () => {
    const worker = withTelemetry({
      fetch: async () => {
        Sentry.addBreadcrumb({
          message: `signed in ${EMAIL} with ${API_KEY}`,
          data: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
        });
        Sentry.setExtra("payload", {
          email: EMAIL,
          nested: { token: env.ADMIN_TOKEN, note: `key ${API_KEY}` },
        });
        Sentry.setContext("stripe", {
          header: STRIPE_SIGNATURE,
          url: `postgres://tollgate:${DATABASE_PASSWORD}@db.example/tg`,
        });
        throw new Error(
          `boom for ${EMAIL} using ${API_KEY}, token ${env.ADMIN_TOKEN}, signature ${STRIPE_SIGNATURE}`,
        );
      },
      queue: async () => {},
      scheduled: async () => {},
    });
    const request = new Request(
      `http://tollgate.test/api/anything?token=${env.ADMIN_TOKEN}&email=${encodeURIComponent(EMAIL)}`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${API_KEY}`,
          cookie: COOKIE,
          "stripe-signature": STRIPE_SIGNATURE,
          "set-cookie": COOKIE,
          "content-type": "application/json",
        },
        body: JSON.stringify({ email: EMAIL, api_key: API_KEY }),
      },
    );
    const ctx = createExecutionContext();
    await expect(worker.fetch(request, withDsn(), ctx)).rejects.toThrow(/boom/);
    await waitOnExecutionContext(ctx);

    expect(events).toHaveLength(1);
    const text = JSON.stringify(events[0]);
    expect(text).toContain("boom for");
    for (const secret of [
      env.ADMIN_TOKEN,
      API_KEY,
      EMAIL,
      encodeURIComponent(EMAIL),
      "sessiontokenvalue",
      STRIPE_SIGNATURE,
      "5257a869e7ec",
      DATABASE_PASSWORD,
    ]) {
      expect(text, `leaked ${secret}`).not.toContain(secret);
    }
    expect(text.toLowerCase()).not.toMatch(
      /"(authorization|cookie|set-cookie|stripe-signature)":"(?!\[redacted\])/,
    );
  });
});
