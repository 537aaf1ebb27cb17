import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { validationHook } from "../errors/handler.ts";

/** Every router shares the validation hook, so a bad body looks the same on every route. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}
