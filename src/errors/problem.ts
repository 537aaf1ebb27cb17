import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { FieldError } from "./api-error.ts";
import { ERROR_CODE_LIST, ERROR_CODES, type ErrorCode } from "./codes.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** RFC 9457 problem details, extended with `code` and `request_id` (docs/ARCHITECTURE.md, Errors). */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://tollgate.dev/problems/not_found" }),
    title: z.string().openapi({ example: "Not found" }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: "No route for GET /api/nope" }),
    code: z.enum(ERROR_CODE_LIST as [ErrorCode, ...ErrorCode[]]),
    request_id: z.string().openapi({ example: "req_01J9Z3Q4W5E6R7T8Y9U0I1O2P3" }),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export type Problem = z.infer<typeof ProblemSchema>;

export function problemBody(
  code: ErrorCode,
  requestId: string,
  detail?: string,
  errors?: FieldError[],
): Problem {
  const { status, title } = ERROR_CODES[code];
  return {
    type: `https://tollgate.dev/problems/${code}`,
    title,
    status,
    detail: detail ?? title,
    code,
    request_id: requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function problemResponse(
  c: Context,
  code: ErrorCode,
  detail?: string,
  errors?: FieldError[],
  headers: Record<string, string> = {},
): Response {
  const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
  const body = problemBody(code, requestId, detail, errors);
  return new Response(JSON.stringify(body), {
    status: body.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, "x-request-id": requestId, ...headers },
  });
}
