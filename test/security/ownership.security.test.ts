import { beforeAll, describe, expect, it } from "vitest";
import { bearer, createKey, database, session, signUp, type TestUser } from "../support/auth";
import { call } from "../support/http";
import { INJECTED, pathOf, ROUTES, type RouteCase, requestFor } from "./routes";

let owner: TestUser;
let intruder: TestUser;
let intruderKey: string;

beforeAll(async () => {
  [owner, intruder] = await Promise.all([signUp(), signUp()]);
  intruderKey = (await createKey(intruder, "intruder")).secret;
});

const credentialsFor = (route: RouteCase, user: TestUser, key?: string) =>
  route.auth === "key" && key ? bearer(key) : session(user);

/** The parts of a problem that must not depend on whether the resource exists somewhere else. */
const shape = async (response: Response) => {
  const { request_id: _, ...rest } = (await response.json()) as Record<string, unknown>;
  return { status: response.status, contentType: response.headers.get("content-type"), body: rest };
};

describe.each(ROUTES.filter((r) => r.owned))("$method $path: another account's id", (route) => {
  it("is a 404 with exactly the body of an id that does not exist", async () => {
    const ownersId = await route.owned?.(owner);
    const intruderCredentials = credentialsFor(route, intruder, intruderKey);
    const theirs = await call(pathOf(route, ownersId), requestFor(route, intruderCredentials));
    const missing = await call(
      pathOf(route, "9e107d9d-372b-4b8d-9a3c-6f5d1b3c2a10"),
      requestFor(route, intruderCredentials),
    );
    const malformed = await call(pathOf(route, "not-a-uuid"), requestFor(route, intruderCredentials));
    expect(theirs.status).toBe(404);
    const [a, b, c] = await Promise.all([shape(theirs), shape(missing), shape(malformed)]);
    expect(a).toEqual(b);
    expect(c).toEqual(b);
  });

  it("still works for its owner (the 404 above is about ownership)", async () => {
    const ownersId = await route.owned?.(owner);
    const response = await call(pathOf(route, ownersId), requestFor(route, session(owner)));
    expect(response.status).toBeLessThan(300);
  });
});

describe.each(ROUTES.filter((r) => r.serverOwned))(
  "$method $path: server-owned fields in the body",
  (route) => {
    it("ignores or refuses them, and never echoes them", async () => {
      const body = { ...(route.body as object), ...route.serverOwned, account_id: intruder.accountId };
      const response = await call(pathOf(route), requestFor(route, credentialsFor(route, owner), body));
      expect([200, 201, 202, 400, 422]).toContain(response.status);
      if (response.status >= 300) return;
      const echoed = (await response.json()) as Record<string, unknown>;
      for (const [field, value] of Object.entries({ ...route.serverOwned, account_id: intruder.accountId })) {
        expect(echoed[field], field).not.toEqual(value);
      }
    });
  },
);

describe("POST /api/keys with another account's account_id", () => {
  it("creates the key for the caller, never for the named account", async () => {
    const response = await call(
      "/api/keys",
      requestFor(
        ROUTES.find((r) => r.path === "/api/keys" && r.method === "POST") as RouteCase,
        session(owner),
        {
          name: "mine",
          account_id: intruder.accountId,
          environment: "production",
          revoked_at: INJECTED.revoked_at,
        },
      ),
    );
    expect(response.status).toBe(201);
    const created = (await response.json()) as {
      id: string;
      secret: string;
      environment: string;
      revoked_at: null;
    };
    expect(created.environment).toBe("local");
    expect(created.revoked_at).toBeNull();
    const rows = (await database().query("select account_id from api_keys where id = $1", [created.id])) as {
      account_id: string;
    }[];
    expect(rows[0]?.account_id).toBe(owner.accountId);
    const me = (await (await call("/api/me", { headers: bearer(created.secret) })).json()) as {
      account_id: string;
    };
    expect(me.account_id).toBe(owner.accountId);
  });
});

describe("sign-up with server-owned user fields", () => {
  it("ignores ids, balances, account ids and emailVerified", async () => {
    const email = `mass-${crypto.randomUUID()}@tollgate.test`;
    const { authPost } = await import("../support/auth");
    const response = await authPost("/api/auth/sign-up/email", {
      name: "x",
      email,
      password: "a-long-enough-password",
      emailVerified: true,
      id: "chosen-by-the-client",
      balance: 1_000_000,
      account_id: intruder.accountId,
    });
    expect(response.status).toBe(200);
    const rows = (await database().query(
      "select u.id, u.email_verified, a.id as account_id, b.balance from auth_users u join accounts a on a.user_id = u.id cross join lateral ledger_balances(a.ledger_account_id) b where u.email = $1",
      [email],
    )) as { id: string; email_verified: boolean; account_id: string; balance: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.id).not.toBe("chosen-by-the-client");
    expect(rows[0]?.email_verified).toBe(false);
    expect(rows[0]?.account_id).not.toBe(intruder.accountId);
    expect(Number(rows[0]?.balance)).toBe(0);
  });
});
