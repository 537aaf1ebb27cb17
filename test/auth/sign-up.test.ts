import { describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "../../src/auth/better-auth.ts";
import { APP_ORIGIN, authPost, database, session, sessionCookieFrom, signUp } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";

describe("sign-up", () => {
  it("creates the user, its account and its user ledger account, once each", async () => {
    const user = await signUp();
    const rows = (await database().query(
      `select a.id, la.kind, la.account_id from accounts a join ledger_accounts la on la.id = a.ledger_account_id
       where a.user_id = $1`,
      [user.userId],
    )) as { id: string; kind: string; account_id: string }[];
    expect(rows).toEqual([{ id: user.accountId, kind: "user", account_id: user.accountId }]);
  });

  it("is atomic with the account: when the account cannot be made, no user is stored", async () => {
    const sql = database();
    const email = `atomic-${crypto.randomUUID()}@tollgate.test`;
    // This test file has its own database: make every new account fail for a moment.
    await sql.query("alter table accounts add constraint test_refuse_accounts check (false) not valid");
    try {
      const response = await authPost("/api/auth/sign-up/email", {
        name: "x",
        email,
        password: "a-long-enough-password",
      });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(await sql.query("select 1 from auth_users where email = $1", [email])).toEqual([]);
    } finally {
      await sql.query("alter table accounts drop constraint test_refuse_accounts");
    }
  });

  it("sets the session in an HttpOnly, Secure, SameSite=Lax, __Secure- cookie and never in the body", async () => {
    const email = `cookie-${crypto.randomUUID()}@tollgate.test`;
    const response = await authPost("/api/auth/sign-up/email", {
      name: "x",
      email,
      password: "a-long-enough-password",
    });
    expect(response.status).toBe(200);
    const cookie = sessionCookieFrom(response);
    expect(cookie?.setCookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    const attributes = (cookie?.setCookie ?? "").split(";").map((a) => a.trim().toLowerCase());
    expect(attributes).toEqual(expect.arrayContaining(["httponly", "secure", "samesite=lax", "path=/"]));
    const body = await response.text();
    expect(body).not.toContain(cookie?.sessionToken);
    expect(JSON.parse(body)).not.toHaveProperty("token");
  });

  it("answers refusals as problem+json: a taken e-mail is 409, a short password 400", async () => {
    const user = await signUp();
    await expectProblem(
      await authPost("/api/auth/sign-up/email", {
        name: "x",
        email: user.email,
        password: "another-long-password",
      }),
      409,
      "conflict",
    );
    await expectProblem(
      await authPost("/api/auth/sign-up/email", {
        name: "x",
        email: `short-${crypto.randomUUID()}@t.test`,
        password: "short",
      }),
      400,
      "validation_failed",
    );
  });
});

describe("sign-in and sign-out", () => {
  it("a wrong password is 401 problem+json and sets no cookie", async () => {
    const user = await signUp();
    const response = await authPost("/api/auth/sign-in/email", {
      email: user.email,
      password: `${user.password}!`,
    });
    await expectProblem(response, 401, "unauthorized");
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it("signing in gives a new working session; signing out ends it at once", async () => {
    const user = await signUp();
    const signedIn = await authPost("/api/auth/sign-in/email", {
      email: user.email,
      password: user.password,
    });
    expect(signedIn.status).toBe(200);
    const cookie = sessionCookieFrom(signedIn);
    expect(cookie).toBeDefined();
    const headers = { cookie: cookie?.cookie ?? "", origin: APP_ORIGIN };
    expect((await call("/api/me", { headers })).status).toBe(200);

    const out = await call("/api/auth/sign-out", { method: "POST", headers });
    expect(out.status).toBe(200);
    await expectProblem(await call("/api/me", { headers }), 401, "unauthorized");
    // The first session is another session, still valid.
    expect((await call("/api/me", { headers: session(user) })).status).toBe(200);
  });

  it("get-session answers the user without the session token", async () => {
    const user = await signUp();
    const response = await call("/api/auth/get-session", { headers: session(user) });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(JSON.parse(text).user.email).toBe(user.email);
    expect(text).not.toContain(user.sessionToken);
  });
});

describe("the better-auth surface", () => {
  it.each([
    "/api/auth/delete-user",
    "/api/auth/request-password-reset",
    "/api/auth/update-user",
    "/api/auth/sign-in/social",
  ])("%s is not served", async (path) => {
    const user = await signUp();
    await expectProblem(
      await call(path, {
        method: "POST",
        headers: session(user, { "content-type": "application/json" }),
        body: "{}",
      }),
      404,
      "not_found",
    );
  });
});
