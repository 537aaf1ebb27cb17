import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index.ts";
import { call } from "../support/http.ts";

describe("GET /api/health", () => {
  it("answers 200 with a request id", async () => {
    const response = await call("/api/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, service: "tollgate" });
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("keeps a safe incoming X-Request-Id and replaces an unsafe one", async () => {
    const kept = await call("/api/health", { headers: { "x-request-id": "trace-1234abcd" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-1234abcd");
    const replaced = await call("/api/health", { headers: { "x-request-id": "<script>alert(1)</script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("never touches the database: still 200 with an unreachable DATABASE_URL", async () => {
    const broken = {
      ...env,
      DATABASE_URL: "postgres://nobody@127.0.0.1:1/none",
      LOCAL_NEON_URL: "http://127.0.0.1:1",
    };
    const response = await worker.fetch(new Request("http://tollgate.test/api/health"), broken, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext);
    expect(response.status).toBe(200);
  });
});
