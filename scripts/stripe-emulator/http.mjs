/** Request plumbing shared by the emulator's API, control and checkout-page routes. */
import { idempotencyError, invalidRequest, newId, StripeApiError } from "./util.mjs";

const MAX_BODY_BYTES = 1024 * 1024;

export const newRequestEntry = (method, path, idempotencyKey) => ({
  id: newId("req", 14),
  method,
  path,
  idempotency_key: idempotencyKey,
  params: {},
  status_code: null,
  replayed: false,
  created: Date.now(),
});

export function route(table, method, path) {
  for (const [m, pattern, handler] of table) {
    const match = pattern.exec(path);
    if (m === method && match) return [handler, match[1] && decodeURIComponent(match[1])];
  }
  throw unrecognized(method, path);
}

export const unrecognized = (method, path) =>
  new StripeApiError(404, "invalid_request_error", `Unrecognized request URL (${method}: ${path}).`);

export function checkIdempotentReuse(prior, { method, path, fingerprint, idempotencyKey }) {
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

export function authenticate(req) {
  const authorization = header(req, "authorization") ?? "";
  let key = "";
  if (/^bearer /i.test(authorization)) key = authorization.slice(7).trim();
  else if (/^basic /i.test(authorization)) {
    key = Buffer.from(authorization.slice(6), "base64").toString("utf8").split(":")[0];
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

export function toApiError(error, write) {
  if (error instanceof StripeApiError) return error;
  if (error instanceof SyntaxError) return invalidRequest(`Invalid JSON body: ${error.message}`);
  if (error instanceof URIError) return invalidRequest("Malformed percent-encoding in the request URL.");
  write(`internal error: ${error?.stack ?? error}`);
  return new StripeApiError(500, "api_error", `Emulator error: ${error?.message ?? error}`);
}

export function listOf(items, params, filters) {
  const data = items.filter((item) => filters.every((f) => params[f] === undefined || item[f] === params[f]));
  return { object: "list", data, has_more: false, url: "" };
}

export function header(req, name) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers });
  res.end(JSON.stringify(body, null, 2));
}

export function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
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

export function urlHost(host) {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}
