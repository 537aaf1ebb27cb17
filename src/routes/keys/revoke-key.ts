import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import type { AppEnv } from "../../app-env.ts";
import { authenticate } from "../../auth/authenticate.ts";
import { SESSION_ONLY } from "../../auth/openapi.ts";
import { apiKeys } from "../../db/schema/api-keys.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { API_KEY_ID_EXAMPLE } from "./schema.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const route = createRoute({
  method: "delete",
  path: "/api/keys/{id}",
  tags: ["keys"],
  summary: "Revoke an API key",
  description:
    "Takes effect on the next request that uses the key. Revoking a revoked key is a no-op. Another account's key is a 404, exactly like a key that does not exist. Session only.",
  security: SESSION_ONLY,
  middleware: [authenticate({ via: ["session"] })] as const,
  request: { params: z.object({ id: z.string().openapi({ example: API_KEY_ID_EXAMPLE }) }) },
  responses: {
    204: { description: "Revoked" },
    ...errorResponses("unauthorized", "origin_not_allowed", "not_found"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const notFound = new ApiError("not_found", "No such API key.");
  // A malformed id is answered like a missing one: the answer never depends on what exists elsewhere.
  if (!UUID.test(id)) throw notFound;
  const { database } = c.get("services");
  const { accountId } = c.get("caller");
  const rows = await database.db
    .update(apiKeys)
    .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
    .where(and(eq(apiKeys.id, id), eq(apiKeys.accountId, accountId)))
    .returning({ id: apiKeys.id });
  if (rows.length === 0) throw notFound;
  return c.body(null, 204);
};
