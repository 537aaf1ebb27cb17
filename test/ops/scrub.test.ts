import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REDACTED, scrubEvent, secretValues } from "../../src/telemetry/scrub.ts";
import { API_KEY, COOKIE, DATABASE_PASSWORD, EMAIL, STRIPE_SIGNATURE } from "./secrets.ts";

describe("scrubEvent (beforeSend)", () => {
  const secrets = secretValues({
    ...env,
    DATABASE_URL: `postgres://tollgate:${DATABASE_PASSWORD}@db.example/tg`,
  });

  it.each([
    ["the message", { message: `user ${EMAIL} key ${API_KEY}` }],
    [
      "an exception value",
      { exception: { values: [{ type: "Error", value: `token ${env.ADMIN_TOKEN} for ${EMAIL}` }] } },
    ],
    ["extra", { extra: { note: `Bearer ${API_KEY}`, deep: { deeper: [{ who: EMAIL }] } } }],
    [
      "breadcrumbs",
      {
        breadcrumbs: [
          { message: `fetch ${STRIPE_SIGNATURE}`, data: { url: `https://x.test/?token=${env.ADMIN_TOKEN}` } },
        ],
      },
    ],
    [
      "request headers",
      {
        request: {
          headers: {
            Authorization: `Bearer ${env.ADMIN_TOKEN}`,
            Cookie: COOKIE,
            "Set-Cookie": COOKIE,
            "Stripe-Signature": STRIPE_SIGNATURE,
          },
        },
      },
    ],
    [
      "request data, cookies and query",
      {
        request: {
          data: { email: EMAIL },
          cookies: { s: "sessiontokenvalue" },
          query_string: `token=${env.ADMIN_TOKEN}&email=${EMAIL}`,
          url: `https://t.test/ops?token=${env.ADMIN_TOKEN}`,
        },
      },
    ],
    [
      "tags and contexts",
      {
        tags: { who: EMAIL },
        contexts: { db: { url: `postgres://tollgate:${DATABASE_PASSWORD}@db.example/tg` } },
      },
    ],
    [
      "keys named after secrets",
      { extra: { password: "hunter2hunter2", api_key: "opaque-value-123", email: "x" } },
    ],
  ])("removes secrets from %s", (_, event) => {
    const scrubbed = scrubEvent(structuredClone(event), undefined, secrets);
    const text = JSON.stringify(scrubbed);
    for (const secret of [
      env.ADMIN_TOKEN,
      API_KEY,
      EMAIL,
      "sessiontokenvalue",
      STRIPE_SIGNATURE,
      DATABASE_PASSWORD,
      "hunter2hunter2",
      "opaque-value-123",
    ]) {
      expect(text, `leaked ${secret}`).not.toContain(secret);
    }
    expect(text).toMatch(/\[redacted\]|\[email\]/);
  });

  it("drops an event that stands for a 4xx, keeps a 5xx", () => {
    expect(scrubEvent({ message: "x" }, { originalException: { status: 404 } }, [])).toBeNull();
    expect(scrubEvent({ contexts: { response: { status_code: 401 } } }, undefined, [])).toBeNull();
    expect(scrubEvent({ message: "x" }, { originalException: { status: 503 } }, [])).toEqual({
      message: "x",
    });
    expect(REDACTED).toBe("[redacted]");
  });
});
