import { describe, expect, it } from "vitest";
import { call } from "../support/http.ts";

type Doc = {
  paths: Record<
    string,
    Record<string, { security?: Record<string, string[]>[]; responses: Record<string, unknown> }>
  >;
  components: { securitySchemes?: Record<string, { type: string; in?: string; name?: string }> };
};

describe("the OpenAPI document describes authentication", () => {
  it("names the three schemes and which routes need which", async () => {
    const doc = (await (await call("/api/openapi.json")).json()) as Doc;
    expect(Object.keys(doc.components.securitySchemes ?? {})).toEqual(
      expect.arrayContaining(["sessionCookie", "apiKey", "adminToken"]),
    );
    expect(doc.components.securitySchemes?.sessionCookie).toMatchObject({
      type: "apiKey",
      in: "cookie",
      name: "__Secure-tollgate.session_token",
    });
    expect(doc.paths["/api/keys"]?.post?.security).toEqual([{ sessionCookie: [] }]);
    expect(doc.paths["/api/keys/{id}"]?.delete?.security).toEqual([{ sessionCookie: [] }]);
    expect(doc.paths["/api/me"]?.get?.security).toEqual([{ sessionCookie: [] }, { apiKey: [] }]);
    expect(doc.paths["/api/billing/ledger"]?.get?.security).toEqual([{ sessionCookie: [] }, { apiKey: [] }]);
    expect(Object.keys(doc.paths["/api/me"]?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401"]),
    );
  });
});
