import { describe, expect, it } from "vitest";
import { call } from "../support/http.ts";
import { countStatements } from "../support/statements.ts";

describe("the local Neon statement counter", () => {
  it("counts one statement and one round trip for /api/ready", async () => {
    const counted = await countStatements(() => call("/api/ready"));
    expect(counted.result.status).toBe(200);
    expect(counted.statements).toBe(1);
    expect(counted.requests).toBe(1);
  });

  it("counts nothing for /api/health, which never touches the database", async () => {
    const counted = await countStatements(() => call("/api/health"));
    expect(counted.result.status).toBe(200);
    expect(counted.statements).toBe(0);
  });

  it("adds up across requests", async () => {
    const counted = await countStatements(async () => {
      for (let i = 0; i < 3; i++) await call("/api/ready");
    });
    expect(counted.statements).toBe(3);
  });
});
