import type { MiddlewareHandler } from "hono";

export type RequestIdVariables = { requestId: string };

const SAFE_INCOMING_ID = /^[A-Za-z0-9._:-]{8,64}$/;

export function newRequestId() {
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}

/**
 * Gives every request an id, echoed in `X-Request-Id` on every response. A caller's own id is kept
 * when it looks safe (so traces join up across services); anything else is replaced.
 */
export function requestId(options: { header?: string } = {}): MiddlewareHandler {
  const header = options.header ?? "X-Request-Id";
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header(header);
    const id = incoming && SAFE_INCOMING_ID.test(incoming) ? incoming : newRequestId();
    c.set("requestId", id);
    await next();
    c.res.headers.set(header, id);
  };
}
