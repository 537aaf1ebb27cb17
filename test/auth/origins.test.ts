import { describe, expect, it } from "vitest";
import type { Config } from "../../src/config/index.ts";
import {
  effectiveOrigins,
  isLocalhostOrigin,
  isPublicRedirect,
  normalizeOrigin,
  originAllowed,
} from "../../src/config/origins.ts";

const STRICT = { allowLocalhost: false, allowNull: false };
const LIST = ["https://app.tollgate.example", "https://admin.tollgate.example:8443"];

describe("normalizeOrigin (WHATWG URL)", () => {
  it.each([
    ["https://app.tollgate.example", "https://app.tollgate.example"],
    ["https://APP.Tollgate.Example", "https://app.tollgate.example"],
    ["https://app.tollgate.example:443", "https://app.tollgate.example"],
    ["http://app.tollgate.example:80", "http://app.tollgate.example"],
    ["https://app.tollgate.example/", "https://app.tollgate.example"],
    ["https://app.tollgate.example:8443", "https://app.tollgate.example:8443"],
    ["https://bücher.example", "https://xn--bcher-kva.example"],
  ])("%s → %s", (input, expected) => {
    expect(normalizeOrigin(input)).toBe(expected);
  });

  it.each([
    "*",
    "https://*.tollgate.example",
    "null",
    "app.tollgate.example",
    "ftp://app.tollgate.example",
    "javascript:alert(1)",
    "https://app.tollgate.example/path",
    "https://app.tollgate.example?x=1",
    "https://app.tollgate.example#x",
    "https://user:pass@app.tollgate.example",
    "",
  ])("refuses %j", (input) => {
    expect(normalizeOrigin(input)).toBeUndefined();
  });
});

describe("originAllowed: exact scheme + host + port", () => {
  it.each([
    ["https://app.tollgate.example", true],
    ["https://APP.TOLLGATE.EXAMPLE", true],
    ["https://app.tollgate.example:443", true],
    ["https://admin.tollgate.example:8443", true],
    ["https://admin.tollgate.example", false],
    ["https://app.tollgate.example.evil.com", false],
    ["https://evilapp.tollgate.example", false],
    ["https://x.app.tollgate.example", false],
    ["http://app.tollgate.example", false],
    ["https://app.tollgate.example:444", false],
    ["null", false],
    [undefined, false],
  ])("%s → %s", (presented, expected) => {
    expect(originAllowed(presented, LIST, STRICT)).toBe(expected);
  });

  it("drops wildcard and unparseable entries from a list instead of matching everything", () => {
    expect([
      ...effectiveOrigins(["*", "https://*.x.example", "nonsense", "https://ok.example"], STRICT),
    ]).toEqual(["https://ok.example"]);
    expect(originAllowed("https://evil.example", ["*"], STRICT)).toBe(false);
  });

  it("null passes only with ALLOW_NULL_ORIGIN", () => {
    expect(originAllowed("null", LIST, STRICT)).toBe(false);
    expect(originAllowed("null", LIST, { allowLocalhost: false, allowNull: true })).toBe(true);
  });

  it("a listed localhost origin passes only with ALLOW_LOCALHOST_ORIGINS", () => {
    const list = ["http://localhost:8787", "http://127.0.0.1:8787"];
    for (const origin of list) {
      expect(originAllowed(origin, list, STRICT)).toBe(false);
      expect(originAllowed(origin, list, { allowLocalhost: true, allowNull: false })).toBe(true);
    }
    expect(originAllowed("http://localhost:9999", list, { allowLocalhost: true, allowNull: false })).toBe(
      false,
    );
  });

  it.each([
    "http://localhost:3000",
    "http://api.localhost",
    "http://127.0.0.2",
    "http://[::1]:8787",
    "http://0.0.0.0",
  ])("%s is a localhost origin", (origin) => {
    expect(isLocalhostOrigin(origin)).toBe(true);
  });
});

describe("isPublicRedirect (PUBLIC_ORIGIN_ALLOWLIST)", () => {
  const config = {
    PUBLIC_ORIGIN_ALLOWLIST: ["https://app.tollgate.example"],
    ALLOW_LOCALHOST_ORIGINS: false,
    ALLOW_NULL_ORIGIN: false,
  } as unknown as Config;

  it.each([
    ["https://app.tollgate.example/billing/done?session={CHECKOUT_SESSION_ID}", true],
    ["https://app.tollgate.example.evil.com/billing/done", false],
    ["https://app.tollgate.example@evil.com/", false],
    ["https://user@app.tollgate.example/", false],
    ["//evil.com/path", false],
    ["/relative/path", false],
    ["javascript:alert(1)", false],
  ])("%s → %s", (url, expected) => {
    expect(isPublicRedirect(config, url)).toBe(expected);
  });
});
