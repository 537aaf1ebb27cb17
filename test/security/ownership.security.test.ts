import { beforeAll, describe, expect, it } from "vitest";
import { bearer, createKey, database, session, signUp, type TestUser } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";
import {
  accountState,
  INJECTED,
  pathOf,
  ROUTES,
  type RouteCase,
  requestFor,
  send,
  targetFor,
} from "./routes.ts";

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

/** Routes on one resource: their `prepare` creates one the user owns and returns its id. */
const ownedRoutes = ROUTES.filter((r) => r.path.includes(":id") && r.prepare);

describe.each(ownedRoutes)("$method $path: another account's id", (route) => {
  it("is a 404 with exactly the body of an id that does not exist, and changes nothing", async () => {
    const target = await targetFor(route, owner);
    expect(target.id, "prepare must return the owner's id").toBeDefined();
    expect(target.id).not.toBe(route.sampleId);
    const intruderCredentials = credentialsFor(route, intruder, intruderKey);
    const [ownerBefore, intruderBefore] = await Promise.all([
      accountState(owner.accountId),
      accountState(intruder.accountId),
    ]);
    const theirs = await send(target, intruderCredentials);
    const missing = await send(target, intruderCredentials, {
      path: pathOf(route, "9e107d9d-372b-4b8d-9a3c-6f5d1b3c2a10"),
    });
    const malformed = await send(target, intruderCredentials, { path: pathOf(route, "not-a-uuid") });
    expect(theirs.status).toBe(404);
    const [a, b, c] = await Promise.all([shape(theirs), shape(missing), shape(malformed)]);
    expect(a).toEqual(b);
    expect(c).toEqual(b);
    expect(await accountState(owner.accountId)).toEqual(ownerBefore);
    expect(await accountState(intruder.accountId)).toEqual(intruderBefore);
  });

  it("still works for its owner (the 404 above is about ownership)", async () => {
    const target = await targetFor(route, owner);
    const response = await send(target, session(owner));
    expect(response.status, await response.clone().text()).toBeLessThan(300);
  });
});

/** The quoted names in a validation problem's messages (zod's `Unrecognized key(s): "a", "b"`). */
const namedFields = (problem: Record<string, unknown>) =>
  ((problem.errors ?? []) as { message: string }[]).flatMap((e) =>
    [...e.message.matchAll(/"([^"]+)"/g)].map((m) => m[1]),
  );

describe.each(ROUTES.filter((r) => r.serverOwned))(
  "$method $path: server-owned fields in the body",
  (route) => {
    const injected = () => ({ ...route.serverOwned, account_id: intruder.accountId });

    /** Sends a fresh valid request with `fields` added to its body; expects the account(s) untouched if refused. */
    async function attempt(fields: Record<string, unknown>) {
      const target = await targetFor(route, owner);
      const [ownerBefore, intruderBefore] = await Promise.all([
        accountState(owner.accountId),
        accountState(intruder.accountId),
      ]);
      const body = { ...(target.body as object), ...fields };
      const response = await send(target, credentialsFor(route, owner), { body });
      if (response.status >= 300) {
        expect(await accountState(owner.accountId)).toEqual(ownerBefore);
      }
      expect(await accountState(intruder.accountId)).toEqual(intruderBefore);
      return response;
    }

    it("ignores or refuses them, and never echoes them", async () => {
      const response = await attempt(injected());
      const refusal = route.refusesServerOwned;
      if (refusal) {
        const problem = await expectProblem(response, refusal.status, refusal.code);
        for (const field of Object.keys(injected())) expect(namedFields(problem), field).toContain(field);
        return;
      }
      expect([200, 201, 202, 400, 422]).toContain(response.status);
      if (response.status >= 300) return;
      const echoed = (await response.json()) as Record<string, unknown>;
      for (const [field, value] of Object.entries(injected())) {
        expect(echoed[field], field).not.toEqual(value);
      }
    });

    const refusal = route.refusesServerOwned;
    if (refusal) {
      // A refusal of all of them at once could come from any one; each must be refused on its own.
      it.each(Object.keys(route.serverOwned ?? {}))(
        "refuses %s on its own, storing nothing",
        async (field) => {
          const value = field === "account_id" ? intruder.accountId : route.serverOwned?.[field];
          const problem = await expectProblem(
            await attempt({ [field]: value }),
            refusal.status,
            refusal.code,
          );
          expect(namedFields(problem)).toContain(field);
        },
      );

      it("the same request without them succeeds (the refusal is about the fields)", async () => {
        const response = await attempt({});
        expect(response.status, await response.clone().text()).toBeLessThan(300);
      });
    }
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
    const { authPost } = await import("../support/auth.ts");
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
