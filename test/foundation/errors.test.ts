import { env } from "cloudflare:workers";
import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { ERROR_CODES } from "../../src/errors/codes.ts";
import { call, expectProblem } from "../support/http.ts";

describe("the error contract", () => {
  it("unknown route → 404 problem+json with request_id", async () => {
    const body = await expectProblem(await call("/api/does-not-exist"), 404, "not_found");
    expect(body.detail).toContain("/api/does-not-exist");
  });

  it("malformed JSON → 400 invalid_json; a schema mismatch → 400 validation_failed with field errors", async () => {
    const app = appWithEchoRoute();
    const malformed = await app.request(
      "/api/test/echo",
      { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" },
      env,
    );
    await expectProblem(malformed, 400, "invalid_json");

    const invalid = await app.request(
      "/api/test/echo",
      { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: "one" }) },
      env,
    );
    const body = await expectProblem(invalid, 400, "validation_failed");
    expect(body.errors).toEqual([expect.objectContaining({ path: "n" })]);
  });

  it("an unexpected exception → 500 problem+json without the exception's message", async () => {
    const app = appWithEchoRoute();
    const response = await app.request("/api/test/explode", {}, env);
    const body = await expectProblem(response, 500, "internal_error");
    expect(JSON.stringify(body)).not.toContain("db password is hunter2");
  });

  it("text Postgres cannot store (NUL) → 400 bad_request, also when wrapped by drizzle; other driver errors stay 500", async () => {
    const app = appWithEchoRoute();
    const wrapped = await app.request("/api/test/nul", {}, env);
    await expectProblem(wrapped, 400, "bad_request");
    const other = await app.request("/api/test/unique", {}, env);
    await expectProblem(other, 500, "internal_error");
  });

  it("body over the size limit → 413 before any handler runs", async () => {
    const big = JSON.stringify({ pad: "x".repeat(70 * 1024) });
    await expectProblem(
      await call("/api/anything", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: big,
      }),
      413,
      "payload_too_large",
    );
  });

  it("an understated Content-Length does not get a big body past the limit", async () => {
    const big = new TextEncoder().encode(JSON.stringify({ pad: "x".repeat(70 * 1024) }));
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(big);
        controller.close();
      },
    });
    const response = await call("/api/anything", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      // @ts-expect-error duplex is required for streaming bodies
      duplex: "half",
    });
    await expectProblem(response, 413, "payload_too_large");
  });

  it("a non-JSON body → 415", async () => {
    await expectProblem(
      await call("/api/anything", {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "hello",
      }),
      415,
      "unsupported_media_type",
    );
  });

  it("every code has a 4xx/5xx status and a title", () => {
    for (const [code, { status, title }] of Object.entries(ERROR_CODES)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(title.length, code).toBeGreaterThan(0);
    }
  });
});

/** The real app plus two routes that exist only in this test, to drive the error tiers. */
function appWithEchoRoute() {
  const app = createApp();
  const echo = createRoute({
    method: "post",
    path: "/api/test/echo",
    request: {
      body: { content: { "application/json": { schema: z.object({ n: z.number() }) } }, required: true },
    },
    responses: { 200: { description: "echo" } },
  });
  app.openapi(echo, (c) => c.json(c.req.valid("json"), 200));
  app.get("/api/test/nul", () => {
    throw new Error("Failed query: insert ...", {
      cause: Object.assign(new Error("invalid byte sequence"), { code: "22021" }),
    });
  });
  app.get("/api/test/unique", () => {
    throw new Error("Failed query: insert ...", {
      cause: Object.assign(new Error("duplicate key"), { code: "23505" }),
    });
  });
  app.get("/api/test/explode", () => {
    throw new Error("db password is hunter2");
  });
  return app;
}
