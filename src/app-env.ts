import type { Caller } from "./auth/authenticate.ts";
import type { Config } from "./config/index.ts";
import type { Database } from "./db/client.ts";

/** Per-request services, built once by the services middleware (never at module scope). */
export type Services = {
  config: Config;
  database: Database;
};

/** The Hono env of every route: Worker bindings plus what the middleware puts on the context. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    requestId: string;
    services: Services;
    /** Set by `authenticate()` (src/auth/authenticate.ts) on routes that need a caller. */
    caller: Caller;
  };
};
