import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { revokeKey } from "../../auth/keys.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { SESSION_ONLY } from "../security.ts";
import { API_KEY_ID_EXAMPLE } from "./schema.ts";

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
  const { database } = c.get("services");
  if (!(await revokeKey(database, c.get("caller").accountId, id))) {
    throw new ApiError("not_found", "No such API key.");
  }
  return c.body(null, 204);
};
