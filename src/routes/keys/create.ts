import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { generateApiKey } from "../../auth/api-keys.ts";
import { insertKey, MAX_ACTIVE_KEYS } from "../../auth/keys.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { SESSION_ONLY } from "../security.ts";
import { ApiKeySchema } from "./schema.ts";

export const CreateKeyRequest = z
  .object({ name: z.string().trim().min(1).max(100).openapi({ example: "CI pipeline" }) })
  .openapi("CreateApiKeyRequest");

export const CreateKeyResponse = ApiKeySchema.extend({
  secret: z.string().openapi({
    description: "The API key. Shown once, here: Tollgate keeps only its SHA-256 digest.",
    example: "tg_production_7Hq2xK0dQm3vZ8pLwR5tYb1nC6sJ4fA9gE2hU7kM0oX",
  }),
}).openapi("CreatedApiKey");

export const route = createRoute({
  method: "post",
  path: "/api/keys",
  tags: ["keys"],
  summary: "Create an API key",
  description: `Session only (an API key cannot mint keys). At most ${MAX_ACTIVE_KEYS} active keys per account.`,
  security: SESSION_ONLY,
  middleware: [authenticate({ via: ["session"] })] as const,
  request: { body: { content: { "application/json": { schema: CreateKeyRequest } }, required: true } },
  responses: {
    201: {
      description: "Created; the secret is in this response only",
      content: { "application/json": { schema: CreateKeyResponse } },
    },
    ...errorResponses("validation_failed", "invalid_json", "unauthorized", "origin_not_allowed", "conflict"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { name } = c.req.valid("json");
  const { config, database } = c.get("services");
  const { accountId } = c.get("caller");
  const key = await generateApiKey(config.ENVIRONMENT);
  const stored = await insertKey(database, accountId, name, key);
  if (!stored)
    throw new ApiError(
      "conflict",
      `An account can have at most ${MAX_ACTIVE_KEYS} active keys; revoke one first.`,
    );
  c.header("cache-control", "no-store");
  return c.json({ ...stored, secret: key.secret }, 201);
};
