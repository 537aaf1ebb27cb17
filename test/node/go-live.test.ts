import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, runScript, startLocalStack } from "../../scripts/lib/stack.ts";
import { postgresReachable, testDatabaseUrl } from "./postgres.ts";

// These tests start a real stack over the machine's Postgres; without one they fail, never skip.
if (!(await postgresReachable(testDatabaseUrl()))) {
  throw new Error(`${import.meta.url}: needs Postgres at TEST_DATABASE_URL (default 127.0.0.1:5432)`);
}
const ROOT = join(import.meta.dirname, "../..");
const CHECKLIST = readFileSync(join(ROOT, "docs/GO_LIVE_CHECKLIST.md"), "utf8");

/** Environment variables go-live reads; cleared so the developer's shell cannot change a test. */
const CLEAN = {
  BACKEND_BASE_URL: undefined,
  BACKEND_ADMIN_TOKEN: undefined,
  SMOKE_API_KEY: undefined,
  DATABASE_URL: undefined,
  SCRATCH_DATABASE_URL: undefined,
  STRIPE_SECRET_KEY: undefined,
  STRIPE_WEBHOOK_SECRET: undefined,
  CLOUDFLARE_API_TOKEN: undefined,
  ADMIN_TOKEN: undefined,
  BETTER_AUTH_SECRET: undefined,
  SENTRY_DSN: undefined,
};

const goLive = (args: string[], env: Record<string, string | undefined> = {}) =>
  runScript("scripts/go-live.ts", args, { env: { ...CLEAN, ...env }, timeoutMs: 240_000 });

type Row = { section: string; line: string; result: string; detail: string };

/** The final table, one object per checklist line. */
function table(output: string): Row[] {
  const start = output.indexOf("| section ");
  return output
    .slice(start)
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| section "))
    .map((l) => {
      const [section, line, result, detail] = l
        .slice(2, -2)
        .split(" | ")
        .map((c) => c.trim());
      return {
        section: section ?? "",
        line: (line ?? "").replace(/^- /, ""),
        result: result ?? "",
        detail: detail ?? "",
      };
    });
}

const row = (rows: Row[], text: string) => {
  const found = rows.find((r) => r.line === text);
  if (!found) throw new Error(`no row ${text}`);
  return found;
};

describe("npm run go-live without a deployment", () => {
  it("--help explains the secret sources and the exit codes; a bad target is a usage error", async () => {
    const help = await goLive(["--help"]);
    expect(help.code).toBe(0);
    for (const word of [
      "--secrets-from-env",
      "wrangler secret list",
      ".data/dev.vars",
      "Exit 0 when no line failed",
    ]) {
      expect(help.output).toContain(word);
    }
    expect((await goLive(["--target", "render"])).code).toBe(2);
  });

  it("production with development-default secrets: ✘ lines naming each, exit 1, no value printed", async () => {
    const secrets = {
      ADMIN_TOKEN: "dev-admin-token-change-me",
      BETTER_AUTH_SECRET: "dev-better-auth-secret-change-me-0123456789",
      STRIPE_SECRET_KEY: "sk_test_tollgate_local",
      STRIPE_WEBHOOK_SECRET: "whsec_tollgate_local_dev",
      DATABASE_URL: "postgres://tollgate:hunter2-db-password@127.0.0.1:9/tollgate",
    };
    const { code, output } = await goLive(
      ["--target", "production", "--secrets-from-env", "--skip-tests"],
      secrets,
    );
    expect(code, output).toBe(1);
    const rows = table(output);
    const secretsRow = row(
      rows,
      "(Tollgate) Every Worker's secrets are set and none is a development default.",
    );
    expect(secretsRow.result).toBe("✘");
    for (const name of ["ADMIN_TOKEN", "BETTER_AUTH_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]) {
      expect(secretsRow.detail).toContain(`${name} is a development default`);
    }
    expect(secretsRow.detail).toContain("[source: environment (--secrets-from-env)]");
    expect(row(rows, "Rotate `ADMIN_TOKEN`.").result).toBe("✘");
    // The repository's production config itself is right.
    for (const line of [
      "Set `AUTH_ORIGIN_ALLOWLIST` to production origins only.",
      "Set `CORS_ALLOW_ORIGINS` and `PUBLIC_ORIGIN_ALLOWLIST` to production origins only.",
      "Set `ALLOW_LOCALHOST_ORIGINS=false` and `ALLOW_NULL_ORIGIN=false` on production.",
      "Deploy web process with `MVP_WORKER_ENABLED=false`.",
      "Deploy worker process with `MVP_WORKER_ENABLED=true`.",
      "Set `LEGACY_QUEUE_WORKER_ENABLED=false` on both.",
      "(Tollgate) Every queue consumer has a dead-letter queue.",
      "`MVP_WORKER_ENABLED=true`",
      "Manual deploy uses `Backend Deploy` preflight gate.",
      "Keep `backend/docs/INCIDENT_RESPONSE_PLAYBOOK.md` up to date.",
    ]) {
      expect(row(rows, line).result, line).toBe("✔");
    }
    // Nothing answers: the live lines fail, naming why; the database is unreachable.
    expect(row(rows, "Verify `/api/ready` is `ok=true`.").detail).toContain("no --url");
    expect(row(rows, "Run migrations: `python backend/migrate_postgres.py`.").result).toBe("✘");
    // The replay test and the checkout check are never run against production.
    expect(row(rows, "Run replay/idempotency test (same event twice => single topup).").result).toBe("n/a");
    expect(row(rows, "Confirm backup retention policy.").result).toBe("manual");
    for (const value of Object.values(secrets)) expect(output).not.toContain(value);
    expect(output).not.toContain("hunter2");
  });

  it("a wrangler config with a localhost origin, ALLOW_NULL_ORIGIN=true and a consumer without DLQ: those lines ✘", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-go-live-config-"));
    try {
      const broken = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
        .replace('main = "src/index.ts"', `main = "${join(ROOT, "src/index.ts")}"`)
        .replace(
          /(\[env\.production\.vars\][\s\S]*?)AUTH_ORIGIN_ALLOWLIST = "[^"]*"/,
          '$1AUTH_ORIGIN_ALLOWLIST = "https://app.tollgate.example,http://localhost:3000"',
        )
        .replace(
          /(\[env\.production-worker\.vars\][\s\S]*?)ALLOW_NULL_ORIGIN = "false"/,
          '$1ALLOW_NULL_ORIGIN = "true"',
        )
        .replace(
          /(queue = "jobs-production"\nmax_batch_size = 10\nmax_batch_timeout = 1\nmax_retries = 5\n)dead_letter_queue = "jobs-dlq-production"\n/,
          "$1",
        );
      const config = join(dir, "wrangler.toml");
      writeFileSync(config, broken);
      const { code, output } = await goLive([
        "--target",
        "production",
        "--config",
        config,
        "--secrets-from-env",
        "--skip-tests",
      ]);
      expect(code, output).toBe(1);
      const rows = table(output);
      expect(row(rows, "Set `AUTH_ORIGIN_ALLOWLIST` to production origins only.").detail).toContain(
        'production AUTH_ORIGIN_ALLOWLIST: "http://localhost:3000" is localhost',
      );
      expect(
        row(rows, "Set `ALLOW_LOCALHOST_ORIGINS=false` and `ALLOW_NULL_ORIGIN=false` on production.").detail,
      ).toContain("production-worker: ALLOW_NULL_ORIGIN=true");
      expect(row(rows, "(Tollgate) Every queue consumer has a dead-letter queue.").detail).toMatch(
        /jobs-production has no dead_letter_queue/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with CLOUDFLARE_API_TOKEN the secrets come from wrangler secret list, per Worker, named in the table", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tollgate-go-live-wrangler-"));
    try {
      // A stand-in wrangler: the web Worker has every secret, the worker lacks SENTRY_DSN and STRIPE_SECRET_KEY.
      const bin = join(dir, "wrangler");
      writeFileSync(
        bin,
        `#!/usr/bin/env node
const args = process.argv.slice(2);
const env = args[args.indexOf("--env") + 1];
const all = ["DATABASE_URL", "ADMIN_TOKEN", "BETTER_AUTH_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "SENTRY_DSN"];
const names = env.endsWith("-worker") ? all.filter((n) => n !== "SENTRY_DSN" && n !== "STRIPE_SECRET_KEY") : all;
if (args[0] !== "secret" || args[1] !== "list" || !args.includes("json")) process.exit(3);
process.stdout.write(JSON.stringify(names.map((name) => ({ name, type: "secret_text" }))));
`,
      );
      chmodSync(bin, 0o755);
      const { output } = await goLive(["--target", "production", "--skip-tests"], {
        CLOUDFLARE_API_TOKEN: "fake-cloudflare-token",
        PATH: `${dir}${delimiter}${process.env.PATH ?? ""}`,
      });
      const rows = table(output);
      const secretsRow = row(
        rows,
        "(Tollgate) Every Worker's secrets are set and none is a development default.",
      );
      expect(secretsRow.result).toBe("✘");
      expect(secretsRow.detail).toContain("STRIPE_SECRET_KEY not set on production-worker");
      expect(secretsRow.detail).toContain("[source: wrangler secret list (Cloudflare)]");
      expect(row(rows, "Configure `SENTRY_DSN`.").detail).toContain(
        "SENTRY_DSN not set on production-worker",
      );
      expect(output).toContain("wrangler secret list --env production-worker");
      expect(output).not.toContain("fake-cloudflare-token");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints every line of docs/GO_LIVE_CHECKLIST.md's checklist, verbatim", async () => {
    const { output } = await goLive([
      "--target",
      "production",
      "--secrets-from-env",
      "--skip-tests",
      "--skip-live",
    ]);
    const printed = table(output).map((r) => r.line);
    const documented = [...CHECKLIST.matchAll(/^\| (?:&nbsp;&nbsp;- )?(.+?) \| /gm)]
      // Cells are padded when the Markdown tables are formatted; the separator row is all dashes.
      .map((m) => (m[1] ?? "").trim().replaceAll("\\|", "|"))
      .filter(
        (l) =>
          !["checklist line (verbatim)", "command"].includes(l) &&
          !/^-+$/.test(l) &&
          !l.startsWith("`npm run"),
      );
    expect(documented.length).toBeGreaterThan(35);
    for (const line of documented) {
      const text = line.replace(/^[*_]\(Tollgate\)[*_] /, "(Tollgate) ");
      if (text.startsWith("(Tollgate)")) continue;
      expect(printed, line).toContain(text);
    }
    // --skip-live: the lines that need a deployment are skipped, not failed.
    expect(row(table(output), "Verify `/api/ready` is `ok=true`.").result).toBe("skip");
  });
});

describe("npm run go-live --target local against a local stack", () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  }, 120_000);
  afterAll(() => stack?.close(), 30_000);

  it("passes: every automatable line ✔, the rest manual or n/a with a reason, and no secret printed", async () => {
    const { code, output } = await goLive([
      "--target",
      "local",
      "--url",
      stack.url,
      "--env-file",
      stack.envFile,
      "--skip-tests",
    ]);
    expect(code, output).toBe(0);
    const rows = table(output);
    expect(rows.filter((r) => r.result === "✘")).toEqual([]);
    for (const line of [
      "(Tollgate) Every Worker's secrets are set and none is a development default.",
      "Run migrations: `python backend/migrate_postgres.py`.",
      "Create backup: `.\\backup-postgres.ps1`.",
      "Verify restore on temp DB: `.\\verify-postgres-backup-restore.ps1 -BackupPath <path>`.",
      "Configure production webhook URL to `/api/billing/stripe/webhook`.",
      "Run replay/idempotency test (same event twice => single topup).",
      "Verify checkout session request uses `Idempotency-Key`.",
      "Verify `/api/ready` is `ok=true`.",
      "monitor `worker_heartbeat_age_s` from `/api/ops/metrics`",
      "worker heartbeat age",
      "Validate `.\\incident-triage.ps1` against production URL.",
      "Verify `POST /api/jobs` with same `Idempotency-Key` returns same job id and single hold.",
    ]) {
      expect(row(rows, line).result, `${line}: ${row(rows, line).detail}`).toBe("✔");
    }
    expect(row(rows, "Run replay/idempotency test (same event twice => single topup).").detail).toContain(
      "+1000 once",
    );
    expect(row(rows, "Verify checkout session request uses `Idempotency-Key`.").detail).toContain(
      "Idempotent-Replayed: true",
    );
    expect(row(rows, "Configure `SENTRY_DSN`.").result).toBe("n/a");
    expect(row(rows, "Confirm backup retention policy.").result).toBe("manual");
    expect(
      row(rows, "(Tollgate) Every Worker's secrets are set and none is a development default.").detail,
    ).toContain(`[source: env file ${stack.envFile}]`);
    for (const secret of [stack.adminToken, stack.webhookSecret, stack.vars.BETTER_AUTH_SECRET as string]) {
      expect(output).not.toContain(secret);
    }
    // The smoke account was credited once by the replayed event, and its jobs each hold once.
    const [topUps] = await stack.query("select count(*)::int as n from transfers where kind = 'top_up'");
    expect(topUps?.n).toBe(1);
  }, 240_000);

  it("the same stack with its database down: ✘ on ready, smoke and triage, exit 1", async () => {
    await stack.stopDatabase();
    try {
      const { code, output } = await goLive([
        "--target",
        "local",
        "--url",
        stack.url,
        "--env-file",
        stack.envFile,
        "--skip-tests",
      ]);
      expect(code, output).toBe(1);
      const rows = table(output);
      expect(row(rows, "Verify `/api/ready` is `ok=true`.").detail).toMatch(
        /database: (unreachable|timed out)/,
      );
      expect(
        row(rows, "Verify `POST /api/jobs` with same `Idempotency-Key` returns same job id and single hold.")
          .result,
      ).toBe("✘");
      expect(row(rows, "Validate `.\\incident-triage.ps1` against production URL.").detail).toContain(
        "CRITICAL (exit 2)",
      );
    } finally {
      await stack.startDatabase();
    }
  }, 240_000);
});
