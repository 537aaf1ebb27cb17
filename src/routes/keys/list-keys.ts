import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { desc, eq } from "drizzle-orm";
import type { AppEnv } from "../../app-env.ts";
import { authenticate } from "../../auth/authenticate.ts";
import { SESSION_ONLY } from "../../auth/openapi.ts";
import { apiKeys } from "../../db/schema/api-keys.ts";
import { errorResponses } from "../../errors/responses.ts";
import { ApiKeySchema, toApiKeyView } from "./schema.ts";

export const ListKeysResponse = z.object({ data: z.array(ApiKeySchema) }).openapi("ApiKeyList");

/** Revoked keys stay listed (with `revoked_at`), so an owner can see what was withdrawn and when. */
const LIST_LIMIT = 200;

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
  const { accountId } = c.get("caller");
  const rows = await database.db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      prefix: apiKeys.prefix,
      environment: apiKeys.environment,
      createdAt: apiKeys.createdAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .where(eq(apiKeys.accountId, accountId))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(LIST_LIMIT);
  return c.json({ data: rows.map(toApiKeyView) }, 200);
};
