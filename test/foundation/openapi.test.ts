import { describe, expect, it } from "vitest";
import { call } from "../support/http.ts";

describe("OpenAPI", () => {
  it("serves an OpenAPI 3.1 document listing the routes and the problem schema", async () => {
    const response = await call("/api/openapi.json");
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/health", "/api/ready"]));
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it("serves a docs page rendered from the document", async () => {
    const response = await call("/api/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const html = await response.text();
    expect(html).toContain("GET /api/ready");
    expect(html).not.toContain("<script");
  });
});
