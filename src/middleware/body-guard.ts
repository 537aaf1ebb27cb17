import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "../errors/api-error.ts";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

/**
 * Refuses bodies Tollgate will not read before any handler runs: over `maxBytes` → 413, a body that
 * is not JSON → 415. The size is checked on the bytes actually received, not only on Content-Length,
 * which a client can omit (chunked) or understate.
 */
export function bodyGuard(options: {
  maxBytes: (c: Context) => number;
  allowForm?: (path: string) => boolean;
}): MiddlewareHandler {
  return async function bodyGuardMiddleware(c, next) {
    if (!METHODS_WITH_BODY.has(c.req.method)) return next();
    const declared = c.req.header("content-length");
    const maxBytes = options.maxBytes(c);
    if (declared !== undefined && Number(declared) > maxBytes) {
      throw new ApiError("payload_too_large", `The body exceeds ${maxBytes} bytes.`);
    }
    const raw = c.req.raw;
    if (!raw.body) return next();
    const bytes = await c.req.arrayBuffer();
    if (bytes.byteLength > maxBytes)
      throw new ApiError("payload_too_large", `The body exceeds ${maxBytes} bytes.`);
    if (bytes.byteLength === 0) return next();
    const type = c.req.header("content-type") ?? "";
    const formAllowed =
      options.allowForm?.(c.req.path) && type.startsWith("application/x-www-form-urlencoded");
    if (!JSON_TYPE.test(type) && !formAllowed) {
      throw new ApiError("unsupported_media_type", "Send the body as application/json.");
    }
    return next();
  };
}
