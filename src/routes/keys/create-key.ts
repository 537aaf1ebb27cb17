import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../../app-env.ts";
import { generateApiKey } from "../../auth/api-keys.ts";
import { authenticate } from "../../auth/authenticate.ts";
import { SESSION_ONLY } from "../../auth/openapi.ts";
import { ApiError } from "../../errors/api-error.ts";
import { errorResponses } from "../../errors/responses.ts";
import { ApiKeySchema, toApiKeyView } from "./schema.ts";

/** Enough for every CI system and server of one customer; a leak of many keys is easier to spot. */
export const MAX_ACTIVE_KEYS = 25;

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

type InsertedKey = {
  id: string;
  name: string;
  prefix: string;
  environment: string;
  created_at: string;
  revoked_at: null;
};

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { name } = c.req.valid("json");
  const { config, database } = c.get("services");
  const { accountId } = c.get("caller");
  const key = await generateApiKey(config.ENVIRONMENT);
  // One statement: the cap and the insert cannot be split by another request's insert in between
  // round trips (two truly concurrent creations may still pass it together; the cap is a guard rail).
  const result = await database.db.execute<InsertedKey>(sql`
    insert into api_keys (account_id, name, environment, prefix, digest)
    select ${accountId}, ${name}, ${key.environment}, ${key.prefix}, ${key.digest}
    where (select count(*) from api_keys where account_id = ${accountId} and revoked_at is null) < ${MAX_ACTIVE_KEYS}
    returning id, name, prefix, environment, created_at, revoked_at`);
  const row = result.rows[0];
  if (!row)
    throw new ApiError(
      "conflict",
      `An account can have at most ${MAX_ACTIVE_KEYS} active keys; revoke one first.`,
    );
  const view = toApiKeyView({ ...row, createdAt: row.created_at, revokedAt: row.revoked_at });
  c.header("cache-control", "no-store");
  return c.json({ ...view, secret: key.secret }, 201);
};
