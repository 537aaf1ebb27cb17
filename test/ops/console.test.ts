import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_COOKIE, signSession } from "../../src/pages/ops/session.ts";
import { expectProblem } from "../support/http.ts";
import { rawSql } from "../support/ledger.ts";
import { ADMIN, fetchWith, opsEnv, seedDeadLetter } from "./support.ts";

const ORIGIN = "http://tollgate.test";

/** The console cookie's `name=value`, from a token exchange. */
async function signIn(): Promise<string> {
  const response = await fetchWith(`/ops?token=${encodeURIComponent(env.ADMIN_TOKEN)}`);
  expect(response.status).toBe(303);
  const setCookie = response.headers.get("set-cookie") ?? "";
  return setCookie.split(";")[0] ?? "";
}

let cookie: string;
beforeAll(async () => {
  cookie = await signIn();
});

function retryButton(jobId: string, headers: Record<string, string>) {
  return fetchWith(`/ops/dead-letters/${jobId}/retry`, { method: "POST", headers });
}

describe("the /ops console: signing in", () => {
  it("without credentials: a 401 sign-in page, no data, strict headers", async () => {
    const response = await fetchWith("/ops");
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(response.headers.get("cache-control")).toBe("no-store");
    const page = await response.text();
    expect(page).toContain('name="token"');
    expect(page).not.toContain("data-metric");
  });

  it("?token= exchanges the admin token for an HttpOnly, SameSite=Strict cookie scoped to /ops, then drops it from the URL", async () => {
    const response = await fetchWith(`/ops?token=${encodeURIComponent(env.ADMIN_TOKEN)}`);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/ops");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(new RegExp(`^${CONSOLE_COOKIE}=v1\\.\\d+\\.[A-Za-z0-9_-]+;`));
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/ops");
    expect(setCookie).toContain("Max-Age=43200");
    expect(setCookie).not.toContain(env.ADMIN_TOKEN);
  });

  it("a wrong token gets the sign-in page again and no cookie", async () => {
    const response = await fetchWith("/ops?token=not-the-token");
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await response.text()).toContain("not valid");
  });

  it("the cookie opens the console; so does the Bearer header", async () => {
    for (const headers of [{ cookie }, ADMIN]) {
      const response = await fetchWith("/ops", { headers });
      expect(response.status).toBe(200);
      const page = await response.text();
      expect(page).toContain('data-metric="queue_depth"');
      expect(page.match(/<svg /g)).toHaveLength(3);
    }
  });

  it("the console cookie is not an API credential", async () => {
    expect((await fetchWith("/api/ops/metrics", { headers: { cookie } })).status).toBe(401);
  });

  it("a forged, expired or rotated-out cookie is refused", async () => {
    // Another expiry under the same MAC, and a MAC with one character changed in its middle (the last
    // base64 character carries padding bits, so changing it may not change the bytes).
    const [name, value = ""] = cookie.split("=");
    const [version, expires = "0", mac = ""] = value.split(".");
    const longer = `${name}=${version}.${Number(expires) + 3600}.${mac}`;
    const flipped = `${name}=${version}.${expires}.${mac.slice(0, 10)}${mac[10] === "A" ? "B" : "A"}${mac.slice(11)}`;
    for (const forged of [longer, flipped]) {
      expect((await fetchWith("/ops", { headers: { cookie: forged } })).status).toBe(401);
    }
    const expired = await signSession({ ADMIN_TOKEN: env.ADMIN_TOKEN }, Date.now() - 13 * 60 * 60 * 1000);
    expect((await fetchWith("/ops", { headers: { cookie: `${CONSOLE_COOKIE}=${expired}` } })).status).toBe(
      401,
    );
    const rotated = "rotated-admin-token-0123456789-abcdefghij";
    expect((await fetchWith("/ops", { headers: { cookie } }, opsEnv({ ADMIN_TOKEN: rotated }))).status).toBe(
      401,
    );
    // During a rotation the old token is ADMIN_TOKEN_NEXT's partner: cookies signed with either work.
    const during = opsEnv({ ADMIN_TOKEN: rotated, ADMIN_TOKEN_NEXT: env.ADMIN_TOKEN });
    expect((await fetchWith("/ops", { headers: { cookie } }, during)).status).toBe(200);
  });

  it("sign out clears the cookie", async () => {
    const response = await fetchWith("/ops/logout", { method: "POST", headers: { cookie, origin: ORIGIN } });
    expect(response.status).toBe(303);
    expect(response.headers.get("set-cookie")).toContain("Max-Age=0");
  });
});

describe("the /ops console: buttons", () => {
  it("retry from the console's own origin works and redirects back with a notice", async () => {
    const { jobId } = await seedDeadLetter();
    const response = await retryButton(jobId, { cookie, origin: ORIGIN });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toMatch(
      /^\/ops\?notice=retried&ref=[0-9a-f-]{36}#dead-letters$/,
    );
    const page = await (
      await fetchWith(response.headers.get("location") ?? "", { headers: { cookie } })
    ).text();
    expect(page).toContain("with a new hold");
  });

  it.each([
    ["a foreign Origin", { origin: "https://evil.example" }],
    ["a same-site but other origin", { origin: "http://admin.tollgate.test" }],
    ["no Origin and Sec-Fetch-Site: cross-site", { "sec-fetch-site": "cross-site" }],
    ["no Origin and no Sec-Fetch-Site", {}],
  ])("a cookie-authenticated button from %s is refused (CSRF) and changes nothing", async (_, headers) => {
    const { jobId } = await seedDeadLetter();
    await expectProblem(await retryButton(jobId, { cookie, ...headers }), 403, "origin_not_allowed");
    expect(await rawSql("select * from dead_letter_retries where job_id = $1", [jobId])).toEqual([]);
  });

  it("Sec-Fetch-Site: same-origin passes when a browser sends no Origin", async () => {
    const { jobId } = await seedDeadLetter();
    expect((await retryButton(jobId, { cookie, "sec-fetch-site": "same-origin" })).status).toBe(303);
  });

  it("a refusal comes back as a notice, not an error page", async () => {
    const { jobId } = await seedDeadLetter({ balance: 10, cost: 10 });
    await rawSql(
      `select * from create_job('account', (select account_id::text from jobs where id = $1), $2, repeat('e', 64), 'echo', '{}'::jsonb, 10, 3)`,
      [jobId, `spend-${jobId}`],
    );
    const response = await retryButton(jobId, { cookie, origin: ORIGIN });
    expect(response.headers.get("location")).toContain("notice=insufficient_credits");
  });

  it("renders data from the database escaped", async () => {
    const { jobId } = await seedDeadLetter();
    await rawSql("update jobs set last_error = '<script>alert(1)</script>' where id = $1", [jobId]);
    const page = await (await fetchWith("/ops", { headers: ADMIN })).text();
    expect(page).not.toContain("<script>alert(1)</script>");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});
