import { ERROR_CODES, type ErrorCode } from "./codes.ts";
import { PROBLEM_CONTENT_TYPE, ProblemSchema } from "./problem.ts";

type ErrorResponses = Record<
  number,
  { description: string; content: Record<string, { schema: typeof ProblemSchema }> }
>;

/**
 * The problem+json responses a route can give, for its `createRoute({ responses })`, so the OpenAPI
 * document lists every error a client must handle. Codes sharing a status are described together.
 */
export function errorResponses(...codes: ErrorCode[]): ErrorResponses {
  const all: ErrorCode[] = [...codes, "internal_error"];
  const out: ErrorResponses = {};
  for (const code of all) {
    const { status, title } = ERROR_CODES[code];
    const existing = out[status];
    const description = existing
      ? `${existing.description}; ${title} (\`${code}\`)`
      : `${title} (\`${code}\`)`;
    out[status] = { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
  }
  return out;
}
