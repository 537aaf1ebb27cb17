import { beforeAll, describe, expect, it } from "vitest";
import { APP_ORIGIN, callWith, randomIp, session, signUp, type TestUser } from "../support/auth.ts";
import { call, expectProblem } from "../support/http.ts";
import { ROUTES, type RouteCase, targetFor } from "./routes.ts";

let user: TestUser;
beforeAll(async () => {
  user = await signUp();
});

const OVERSIZED = JSON.stringify({ name: "x".repeat(70 * 1024) });

/** Every route with a JSON body: the suite's user routes and sign-up/sign-in. */
const bodyRoutes: RouteCase[] = [
  ...ROUTES.filter((r) => r.body !== undefined && r.auth !== "admin"),
  { path: "/api/auth/sign-up/email", method: "POST", auth: "session" },
  { path: "/api/auth/sign-in/email", method: "POST", auth: "session" },
];

describe.each(bodyRoutes)("$method $path", (route) => {
  /** A fresh valid request of the route (its `prepare` run), its body and content type replaced. */
  const sendBody = async (type: string, body: string) => {
    const target = await targetFor(route, user);
    const headers = {
      ...target.headers,
      ...session(user),
      origin: APP_ORIGIN,
      "content-type": type,
      "cf-connecting-ip": randomIp(),
    };
    const init = { method: route.method, headers, body };
    return target.env ? callWith(target.env, target.path, init) : call(target.path, init);
  };

  it("refuses a body over MAX_BODY_BYTES with 413", async () => {
    await expectProblem(await sendBody("application/json", OVERSIZED), 413, "payload_too_large");
  });

  it("refuses a body that is not JSON with 415", async () => {
    await expectProblem(await sendBody("text/plain", "name=x"), 415, "unsupported_media_type");
  });

  it("refuses malformed JSON with 400", async () => {
    const response = await sendBody("application/json", '{"name": ');
    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toContain("application/problem+json");
  });
});

describe("POST /api/keys body validation", () => {
  const post = (body: string) =>
    call("/api/keys", {
      method: "POST",
      headers: { ...session(user), "content-type": "application/json" },
      body,
    });

  it("malformed JSON is 400 invalid_json", async () => {
    await expectProblem(await post("{not json"), 400, "invalid_json");
  });

  it.each([
    ["a missing name", {}],
    ["an empty name", { name: "   " }],
    ["a name over 100 characters", { name: "k".repeat(101) }],
    ["a name that is not a string", { name: 42 }],
  ])("%s is 400 validation_failed naming the field", async (_, body) => {
    const problem = await expectProblem(await post(JSON.stringify(body)), 400, "validation_failed");
    expect(problem.errors).toEqual([expect.objectContaining({ path: "name" })]);
  });
});
