import type { Caller } from "./auth/caller.ts";
import type { Credential } from "./auth/credentials.ts";
import type { ConfigResult } from "./config/index.ts";
import type { Services } from "./services.ts";

/** The Hono env of every route: Worker bindings plus what the middleware puts on the context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    /** The config as parsed for this request, valid or not (CORS and the body limit use it either way). */
    configResult: ConfigResult;
    /** Built once per request when the config is valid; routes behind `requireServices()` can rely on it. */
    services: Services;
    /** Set by `authenticate()` on routes that need a caller. */
    caller: Caller;
    /** Set by `credentialOnly()` on routes that resolve the caller inside their own statement. */
    credential: Credential;
    rateLimitKey: string;
    /** Set by `idempotencyKey()`: the request's checked Idempotency-Key. */
    idempotencyKey: string;
  };
};
