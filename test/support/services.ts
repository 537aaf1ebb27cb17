import { env } from "cloudflare:workers";
import { loadConfig } from "../../src/config/index.ts";
import { createServices, type Services } from "../../src/services.ts";

/** The services an entry point would build, from the test env with `overrides` (e.g. a recording queue). */
export function testServices(overrides: Record<string, unknown> = {}): Services {
  const testEnv = { ...env, ...overrides } as Env;
  const result = loadConfig(testEnv);
  if (!result.ok) throw new Error(`the test env is not a valid config: ${JSON.stringify(result.problems)}`);
  return createServices(testEnv, result.config);
}
