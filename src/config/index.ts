import { type ConfigProblem, checkConfigRules } from "./rules.ts";
import { type Config, ConfigSchema } from "./schema.ts";

export type { ConfigProblem } from "./rules.ts";
export type { Config } from "./schema.ts";

export type ConfigResult =
  | { ok: true; config: Config; problems: [] }
  | { ok: false; config?: Config; problems: ConfigProblem[] };

const cache = new WeakMap<object, ConfigResult>();

/**
 * Parses and checks the Worker's env once per env object. Never throws: callers decide how to fail
 * closed (503 on fetch, retry on queue, throw on scheduled). Problems name variables, never values.
 */
export function loadConfig(env: object): ConfigResult {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  let result: ConfigResult;
  if (!parsed.success) {
    result = {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        rule: "schema",
        variable: String(issue.path[0] ?? "env"),
        message: issue.message,
      })),
    };
  } else {
    const problems = checkConfigRules(parsed.data);
    result =
      problems.length === 0
        ? { ok: true, config: parsed.data, problems: [] }
        : { ok: false, config: parsed.data, problems };
  }
  cache.set(env, result);
  return result;
}
