import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PLAYBOOK } from "../../scripts/lib/checks.ts";
import { type LocalStack, runScript, startLocalStack } from "../../scripts/lib/stack.ts";
import { postgresReachable, testDatabaseUrl } from "./postgres.ts";

// These tests start a real stack over the machine's Postgres; without one they fail, never skip.
if (!(await postgresReachable(testDatabaseUrl()))) {
  throw new Error(`${import.meta.url}: needs Postgres at TEST_DATABASE_URL (default 127.0.0.1:5432)`);
}

type SlackMessage = { text: string; blocks: { type: string; text?: { text: string } }[] };

/** A Slack-compatible receiver on a free port: records every POST body; answers `status`. */
async function startSink() {
  const received: SlackMessage[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push(JSON.parse(body) as SlackMessage);
      res.writeHead(status).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    // A token in the path, as Slack's are: it must never appear in the output.
    url: `http://127.0.0.1:${port}/services/T000/B000/sink-secret-path`,
    received,
    answer: (code: number) => {
      status = code;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("npm run monitor", () => {
  let stack: LocalStack;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const monitor = (args: string[], env: Record<string, string | undefined> = {}) =>
    runScript("scripts/monitor.ts", args, {
      env: {
        BACKEND_BASE_URL: undefined,
        BACKEND_ADMIN_TOKEN: stack.adminToken,
        MONITOR_ALERT_WEBHOOK_URL: sink.url,
        GITHUB_RUN_ID: undefined,
        ...env,
      },
    });

  beforeAll(async () => {
    sink = await startSink();
    stack = await startLocalStack();
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await sink?.close();
  }, 30_000);
  beforeEach(() => {
    sink.received.length = 0;
    sink.answer(200);
  });

  it("--help names the webhook variable and the exit codes", async () => {
    const { code, output } = await monitor(["--help"]);
    expect(code).toBe(0);
    expect(output).toContain("MONITOR_ALERT_WEBHOOK_URL");
    expect(output).toContain("Exit 0 when every check passed, 1 when one failed");
  });

  it("all green: exit 0 and nothing posted", async () => {
    const { code, output } = await monitor(["--url", stack.url]);
    expect(code, output).toBe(0);
    expect(output).toContain("monitor: OK");
    expect(output).toMatch(/\| worker_heartbeat +\| PASS /);
    expect(sink.received).toEqual([]);
  });

  it("the API unreachable: exit 1 and one Slack-compatible message naming the checks and runbooks", async () => {
    const { code, output } = await monitor(["--url", "http://127.0.0.1:9"]);
    expect(code, output).toBe(1);
    expect(sink.received).toHaveLength(1);
    const message = sink.received[0] as SlackMessage;
    expect(message.text).toMatch(
      /Tollgate monitor: \d+ check\(s\) failing on 127\.0\.0\.1:9: health, ready, metrics/,
    );
    expect(message.blocks.map((b) => b.type)).toEqual(["section", "section", "context"]);
    expect(JSON.stringify(message)).toContain(`${PLAYBOOK}#api-down`);
    expect(output).toMatch(/\| alert +\| PASS +\| posted \(200\)/);
    expect(output).not.toContain("sink-secret-path");
  });

  it("a stale worker heartbeat: exit 1, posted, naming worker_heartbeat; the admin token is not in the message", async () => {
    // Snapshots for over an hour and no heartbeat ever: the consumer never ran (src/ops/alerts/rules.ts).
    await stack.query(
      `insert into metric_snapshots (minute, queue_depth, running, dead_letter_total, failed_jobs_1h, webhook_failures_1h, heartbeat_age_s)
       values (date_trunc('minute', now()) - interval '70 minutes', 0, 0, 0, 0, 0, null)`,
    );
    const { code, output } = await monitor(["--url", stack.url]);
    expect(code, output).toBe(1);
    expect(output).toMatch(
      /\| worker_heartbeat +\| FAIL +\| worker_heartbeat_age_s: none yet \(stale above 180\)/,
    );
    expect(sink.received).toHaveLength(1);
    const body = JSON.stringify(sink.received[0]);
    expect(body).toContain("worker_heartbeat");
    expect(body).toContain(`${PLAYBOOK}#worker-heartbeat-stale`);
    expect(body).not.toContain(stack.adminToken);
    expect(output).not.toContain(stack.adminToken);
  });

  it("the webhook answering 500: still exit 1, and the table says the alert was not delivered", async () => {
    sink.answer(500);
    const { code, output } = await monitor(["--url", stack.url]);
    expect(code, output).toBe(1);
    expect(output).toMatch(/\| alert +\| FAIL +\| the webhook answered 500/);
  });

  it("--dry-run prints the message and posts nothing; no webhook set: nothing posted, still exit 1", async () => {
    const dry = await monitor(["--url", stack.url, "--dry-run"]);
    expect(dry.code).toBe(1);
    expect(dry.output).toContain('"blocks"');
    const unset = await monitor(["--url", stack.url], { MONITOR_ALERT_WEBHOOK_URL: undefined });
    expect(unset.code).toBe(1);
    expect(unset.output).toMatch(/\| alert +\| SKIP +\| MONITOR_ALERT_WEBHOOK_URL not set/);
    expect(sink.received).toEqual([]);
  });

  it("no URL at all is a usage error (exit 2)", async () => {
    const { code } = await monitor([]);
    expect(code).toBe(2);
  });
});
