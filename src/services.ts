import type { Config } from "./config/schema.ts";
import { createDatabase, type Database } from "./db/client.ts";

/**
 * What every entry point works with, built once per invocation from the config parsed at that entry:
 * per HTTP request by the services middleware, per queue batch and cron tick in src/index.ts. Nothing
 * here lives at module scope: a database client belongs to one invocation.
 */
export type Services = {
  config: Config;
  database: Database;
  /** The Worker's bindings (queues, rate limiters) and raw variables telemetry reads. */
  env: Env;
};

export function createServices(env: Env, config: Config): Services {
  return { config, database: createDatabase(config), env };
}
