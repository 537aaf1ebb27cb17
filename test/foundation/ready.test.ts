import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import checksums from "../../src/db/functions/checksums.json" with { type: "json" };
import worker from "../../src/index.ts";
import { call } from "../support/http.ts";
import { rawSql } from "../support/ledger.ts";

function fetchWith(overrides: Record<string, string>) {
  return worker.fetch(
    new Request("http://tollgate.test/api/ready"),
    { ...env, ...overrides },
    createExecutionContext(),
  );
}

describe("GET /api/ready", () => {
  it("is ok with the database reachable, migrated and the config valid", async () => {
    const response = await call("/api/ready");
    const body = (await response.json()) as {
      ok: boolean;
      status: string;
      checks: Record<string, { status: string }>;
    };
    expect(response.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(body.status).toBe("pass");
    expect(body.checks.database?.status).toBe("pass");
    expect(body.checks.schema?.status).toBe("pass");
    expect(body.checks.config?.status).toBe("pass");
  });

  it("is 503 with ok:false and no secret or connection string when the database is unreachable", async () => {
    const secretUrl = "postgres://tollgate:s3cret-password@127.0.0.1:1/tollgate";
    const response = await fetchWith({ DATABASE_URL: secretUrl });
    expect(response.status).toBe(503);
    const text = await response.text();
    const body = JSON.parse(text);
    expect(body.ok).toBe(false);
    expect(body.checks.database.status).toBe("fail");
    expect(text).not.toContain("s3cret-password");
    expect(text).not.toContain("postgres://");
    expect(text).not.toContain(env.ADMIN_TOKEN);
  });

  it("is 503 when the local Neon endpoint itself is down", async () => {
    const response = await fetchWith({ LOCAL_NEON_URL: "http://127.0.0.1:1" });
    expect(response.status).toBe(503);
    expect(
      ((await response.json()) as { checks: { database: { status: string } } }).checks.database.status,
    ).toBe("fail");
  });

  // Needs a second, unmigrated database on the same server: the embedded PGlite fallback has only one.
  const separateDatabases = Boolean((env as { TEST_TEMPLATE_DATABASE?: string }).TEST_TEMPLATE_DATABASE);

  it.runIf(separateDatabases)("fails the schema check on a database with no migrations", async () => {
    const url = new URL(env.DATABASE_URL);
    url.pathname = "/postgres";
    const response = await fetchWith({ DATABASE_URL: url.toString() });
    const body = (await response.json()) as { checks: Record<string, { status: string; detail: string }> };
    expect(response.status).toBe(503);
    expect(body.checks.database?.status).toBe("pass");
    expect(body.checks.schema?.status).toBe("fail");
  });

  it("fails the schema check, naming the command, when a function file's content was never applied", async () => {
    const jobs = checksums["jobs.sql"];
    await rawSql("update drizzle.__tollgate_functions set checksum = 'older' where file = 'jobs.sql'");
    try {
      const response = await call("/api/ready");
      const body = (await response.json()) as { checks: Record<string, { status: string; detail: string }> };
      expect(response.status).toBe(503);
      expect(body.checks.database?.status).toBe("pass");
      expect(body.checks.schema).toEqual({
        status: "fail",
        detail: "functions behind: run npm run db:migrate",
      });
    } finally {
      await rawSql("update drizzle.__tollgate_functions set checksum = $1 where file = 'jobs.sql'", [jobs]);
    }
  });

  it("stays ready when the database applied newer function content after the bundle's (a rolled-back Worker)", async () => {
    await rawSql(
      "insert into drizzle.__tollgate_functions (file, checksum, applied_at) values ('jobs.sql', 'newer', now() + interval '1 minute')",
    );
    try {
      const response = await call("/api/ready");
      const body = (await response.json()) as { checks: Record<string, { status: string }> };
      expect(response.status).toBe(200);
      expect(body.checks.schema?.status).toBe("pass");
    } finally {
      await rawSql("delete from drizzle.__tollgate_functions where checksum = 'newer'");
    }
  });

  it("fails the config check, naming the rule, for a production config with dev defaults", async () => {
    const response = await fetchWith({ ENVIRONMENT: "production", ALLOW_LOCALHOST_ORIGINS: "true" });
    expect(response.status).toBe(503);
    const text = await response.text();
    const body = JSON.parse(text);
    expect(body.checks.config.status).toBe("fail");
    const rules = body.checks.config.problems.map((p: { rule: string }) => p.rule);
    expect(rules).toContain("no_localhost_in_production");
    expect(rules).toContain("no_dev_default_secrets");
    expect(text).not.toContain(env.ADMIN_TOKEN);
  });

  it("fails closed on an invalid env: other routes answer 503 problem+json", async () => {
    const broken = { ...env, ENVIRONMENT: "prod-ish" };
    const response = await worker.fetch(
      new Request("http://tollgate.test/api/nope"),
      broken,
      createExecutionContext(),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
  });
});
