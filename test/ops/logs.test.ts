import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app.ts";
import { ADMIN, consume, fetchWith, opsEnv, RecordingQueue, tick } from "./support.ts";

/** Structured logs: what each line carries, and what it must never carry. */
let lines: Record<string, unknown>[] = [];
let raw: string[] = [];
let spy: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  lines = [];
  raw = [];
  spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    const text = args.map(String).join(" ");
    raw.push(text);
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // not one of ours
    }
  });
});
afterEach(() => spy.mockRestore());

const ofEvent = (event: string) => lines.filter((l) => l.event === event);
const EMAIL = "grace.hopper@example.com";

describe("one JSON line per request", () => {
  it("carries request id, method, route pattern, status, duration and the statements it cost", async () => {
    const response = await fetchWith("/api/ops/metrics", { headers: ADMIN });
    const [line] = ofEvent("http.request");
    expect(line).toEqual({
      event: "http.request",
      time: expect.any(String),
      request_id: response.headers.get("x-request-id"),
      method: "GET",
      route: "/api/ops/metrics",
      status: 200,
      duration_ms: expect.any(Number),
      db_statements: 1,
      db_round_trips: 1,
    });
  });

  it("logs the route pattern, never the raw path, query string, headers or body", async () => {
    const jobId = "0b7e6f3a-52c1-4d8e-9f10-3a2b1c4d5e6f";
    await fetchWith(`/api/ops/dead-letters/${jobId}/retry?token=${env.ADMIN_TOKEN}&email=${EMAIL}`, {
      method: "POST",
      headers: {
        ...ADMIN,
        cookie: "tollgate_ops=v1.1.secretcookievalue",
        "content-type": "application/json",
      },
      body: JSON.stringify({ email: EMAIL }),
    });
    const [line] = ofEvent("http.request");
    expect(line).toMatchObject({ route: "/api/ops/dead-letters/:id/retry", status: 404 });
    const text = raw.join("\n");
    for (const secret of [jobId, env.ADMIN_TOKEN, EMAIL, "secretcookievalue"])
      expect(text).not.toContain(secret);
  });

  it("a path no route answers is logged as such, with its status", async () => {
    await fetchWith("/api/nothing/here");
    expect(ofEvent("http.request")[0]).toMatchObject({ route: "(no route)", status: 404 });
  });

  it("an unexpected error's log line has e-mail addresses and secrets scrubbed from its message", async () => {
    const app = createApp();
    app.get("/api/test/explode", () => {
      throw new Error(`could not notify ${EMAIL} with ${env.ADMIN_TOKEN}`);
    });
    const response = await app.request("/api/test/explode", {}, env);
    expect(response.status).toBe(500);
    const [error] = ofEvent("error");
    expect(error?.message).toBe("could not notify [email] with [redacted]");
    expect(raw.join("\n")).not.toContain(EMAIL);
  });
});

describe("one JSON line per queue batch and per cron tick", () => {
  it("queue.batch: queue, message count, outcome, duration, statements — no message bodies", async () => {
    await consume([
      { kind: "heartbeat", sent_at: new Date().toISOString(), deployment: "secret-deployment-name" },
    ]);
    const [line] = ofEvent("queue.batch");
    expect(line).toMatchObject({
      queue: "jobs-local",
      messages: 1,
      outcome: "ok",
      duration_ms: expect.any(Number),
      db_statements: 1,
      request_id: expect.stringMatching(/^queue_[0-9a-f]{32}$/),
    });
    expect(raw.join("\n")).not.toContain("secret-deployment-name");
  });

  it("cron.invocation: cron, outcome, duration, statements; a failed tick says so", async () => {
    await tick(opsEnv());
    expect(ofEvent("cron.invocation")[0]).toMatchObject({
      cron: "* * * * *",
      outcome: "ok",
      request_id: expect.stringMatching(/^cron_[0-9a-f]{32}$/),
      db_statements: expect.any(Number),
    });
    const queue = new RecordingQueue();
    queue.fail = true;
    await expect(tick(opsEnv({}, queue))).rejects.toThrow();
    expect(ofEvent("cron.invocation")[1]).toMatchObject({ outcome: "error" });
  });
});
