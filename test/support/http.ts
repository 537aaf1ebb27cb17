import { exports } from "cloudflare:workers";

export const BASE = "http://tollgate.test";

/** Sends a request through the Worker's real default export (integration level). */
export function call(path: string, init: RequestInit = {}) {
  return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

export function jsonRequest(
  method: string,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export async function expectProblem(response: Response, status: number, code: string) {
  const { expect } = await import("vitest");
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status, code });
  expect(typeof body.request_id).toBe("string");
  expect(body.request_id).toBe(response.headers.get("x-request-id"));
  expect(typeof body.title).toBe("string");
  expect(typeof body.type).toBe("string");
  return body;
}
