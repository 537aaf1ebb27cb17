import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { listKeys } from "../../auth/keys.ts";
import { errorResponses } from "../../errors/responses.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { SESSION_ONLY } from "../security.ts";
import { ApiKeySchema } from "./schema.ts";

export const ListKeysResponse = z.object({ data: z.array(ApiKeySchema) }).openapi("ApiKeyList");

export const route = createRoute({
  method: "get",
  path: "/api/keys",
  tags: ["keys"],
  summary: "List API keys",
  description: "The caller's keys, newest first, without their secrets. Session only.",
  security: SESSION_ONLY,
  middleware: [authenticate({ via: ["session"] })] as const,
  responses: {
    200: { description: "The keys", content: { "application/json": { schema: ListKeysResponse } } },
    ...errorResponses("unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { database } = c.get("services");
  return c.json({ data: await listKeys(database, c.get("caller").accountId) }, 200);
};
