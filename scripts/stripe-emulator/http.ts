/** Request plumbing shared by the emulator's API, control and checkout-page routes. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { idempotencyError, invalidRequest, newId, type Params, StripeApiError } from "./util.ts";

/** One request the emulator answered, as `/_emulator/requests` lists it. */
export type EmulatorRequest = {
  id: string;
  method: string;
  path: string;
  idempotency_key: string | null;
  params: Params;
  status_code: number | null;
  replayed: boolean;
  created: number;
};

/** What a route handler gets: the request's params and the id its pattern captures, if any. */
export type RouteContext = { params: Params; id: string; apiVersion?: string };
export type Route = [method: string, pattern: RegExp, handler: (context: RouteContext) => unknown];

type IdempotentRequest = { method: string; path: string; fingerprint: string; requestId: string };
/** A request remembered under its idempotency key: still running, or done with the answer to replay. */
export type IdempotencyEntry = IdempotentRequest & ({ inFlight: true } | CompletedRequest);
type CompletedRequest = { inFlight?: undefined; status: number; body: unknown };

const MAX_BODY_BYTES = 1024 * 1024;

export const newRequestEntry = (
  method: string,
  path: string,
  idempotencyKey: string | null,
): EmulatorRequest => ({
  id: newId("req", 14),
  method,
  path,
  idempotency_key: idempotencyKey,
  params: {},
  status_code: null,
  replayed: false,
  created: Date.now(),
});

export function route(table: Route[], method: string, path: string): [Route[2], string] {
  for (const [m, pattern, handler] of table) {
    const match = pattern.exec(path);
    // Only the handlers whose pattern captures an id read it.
    if (m === method && match) return [handler, (match[1] && decodeURIComponent(match[1])) as string];
  }
  throw unrecognized(method, path);
}

export const unrecognized = (method: string, path: string) =>
  new StripeApiError(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path}).`);

export function checkIdempotentReuse(
  prior: IdempotencyEntry,
  {
    method,
    path,
    fingerprint,
    idempotencyKey,
  }: { method: string; path: string; fingerprint: string; idempotencyKey: string },
): asserts prior is IdempotentRequest & CompletedRequest {
  const advice = `Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`;
  if (prior.method !== method || prior.path !== path) {
    throw idempotencyError(
      `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${prior.method} ${prior.path}' vs '${method} ${path}'). ${advice}`,
    );
  }
  if (prior.fingerprint !== fingerprint) {
    throw idempotencyError(
      `Keys for idempotent requests can only be used with the same parameters they were first used with. ${advice}`,
    );
  }
  if (prior.inFlight) {
    throw idempotencyError(
      `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${idempotencyKey}. Please try again later.`,
      409,
    );
  }
}

export function authenticate(req: IncomingMessage) {
  const authorization = header(req, "authorization") ?? "";
  let key = "";
  if (/^bearer /i.test(authorization)) key = authorization.slice(7).trim();
  else if (/^basic /i.test(authorization)) {
    key = Buffer.from(authorization.slice(6), "base64").toString("utf8").split(":")[0] as string;
  }
  if (!key) {
    throw new StripeApiError(
      401,
      "invalid_request_error",
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  // Only test-mode keys: a live key pointed here is a configuration mistake worth failing loudly on.
  if (!/^(sk|rk)_test_/.test(key)) {
    throw new StripeApiError(
      401,
      "invalid_request_error",
      `Invalid API Key provided: ${key.slice(0, 8)}***`,
      {
        code: "api_key_invalid",
      },
    );
  }
  return key;
}

export function toApiError(error: unknown, write: (line: string) => void) {
  if (error instanceof StripeApiError) return error;
  if (error instanceof SyntaxError) return invalidRequest(`Invalid JSON body: ${error.message}`);
  if (error instanceof URIError) return invalidRequest("Malformed percent-encoding in the request URL.");
  const failure = error as Error | undefined;
  write(`internal error: ${failure?.stack ?? error}`);
  return new StripeApiError(500, "api_error", `Emulator error: ${failure?.message ?? error}`);
}

export function listOf<T extends object>(items: T[], params: Params, filters: (keyof T & string)[]) {
  const data = items.filter((item) => filters.every((f) => params[f] === undefined || item[f] === params[f]));
  return { object: "list", data, has_more: false, url: "" };
}

export function header(req: IncomingMessage, name: string) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(JSON.stringify(body, null, 2));
}

export function readBody(req: IncomingMessage) {
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new StripeApiError(413, "invalid_request_error", "Request body too large."));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function urlHost(host: string) {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
