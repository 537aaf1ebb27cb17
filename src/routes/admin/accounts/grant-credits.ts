import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../../app-env.ts";
import { ApiError } from "../../../errors/api-error.ts";
import { errorResponses } from "../../../errors/responses.ts";
import { grantCredits, MAX_CREDITS } from "../../../ledger/index.ts";
import { IDEMPOTENCY_KEY_PARAMETER, idempotencyKey } from "../../../middleware/idempotency-key.ts";
import { ADMIN_TOKEN } from "../../security.ts";

export const GrantParams = z.object({
  id: z.uuid().openapi({
    param: { name: "id", in: "path" },
    description: "The customer account to credit.",
    example: "3ca9dec2-05a2-4960-b9a1-9989a64dd095",
  }),
});

export const GrantRequest = z
  .object({
    amount: z
      .number()
      .int()
      .min(1)
      .max(MAX_CREDITS)
      .openapi({ description: "Credits to grant.", example: 500 }),
    reason: z.string().trim().min(1).max(500).openapi({ example: "Goodwill credit for incident 2026-11-27" }),
  })
  .openapi("GrantRequest");

export const GrantResponse = z
  .object({
    id: z.number().int().openapi({ description: "The grant's ledger transfer id.", example: 1042 }),
    account_id: z.string().openapi({ example: "3ca9dec2-05a2-4960-b9a1-9989a64dd095" }),
    amount: z.number().int().openapi({ example: 500 }),
    reason: z.string().openapi({ example: "Goodwill credit for incident 2026-11-27" }),
    created_at: z.string().openapi({ example: "2026-11-28T12:00:00.000Z" }),
  })
  .openapi("Grant");

export type GrantResponseBody = z.infer<typeof GrantResponse>;

export const route = createRoute({
  method: "post",
  path: "/api/admin/accounts/{id}/grants",
  tags: ["admin"],
  summary: "Grant promotional credits",
  description:
    "Credits the account from the promo ledger account (posted at once). Idempotent: the grant is made at most once per account and Idempotency-Key; a replay answers the original response with `Idempotent-Replayed: true`.",
  security: ADMIN_TOKEN,
  middleware: [idempotencyKey()] as const,
  parameters: [IDEMPOTENCY_KEY_PARAMETER],
  request: {
    params: GrantParams,
    body: { content: { "application/json": { schema: GrantRequest } }, required: true },
  },
  responses: {
    201: {
      description: "Granted, or the replay of an earlier identical request",
      headers: z.object({ "Idempotent-Replayed": z.literal("true").optional() }),
      content: { "application/json": { schema: GrantResponse } },
    },
    ...errorResponses(
      "validation_failed",
      "invalid_json",
      "idempotency_key_invalid",
      "unauthorized",
      "not_found",
      "idempotency_key_reused",
    ),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const { amount, reason } = c.req.valid("json");
  const key = c.get("idempotencyKey");
  const accountId = id.toLowerCase();
  const { database } = c.get("services");
  // The reason is part of the request: grant_credits compares it on a replay, so a reused key with
  // another reason is a conflict rather than a silent replay.
  const result = await grantCredits(database, {
    accountId,
    amount,
    ref: `grant:${accountId}:${key}`,
    metadata: { reason, granted_by: "admin" },
  });
  if (result.status === "rejected") {
    if (result.reason === "account_not_found") throw new ApiError("not_found", `No account ${accountId}.`);
    if (result.reason === "ref_conflict") {
      throw new ApiError("idempotency_key_reused", "This Idempotency-Key was used for a different grant.");
    }
    throw new ApiError("validation_failed", `The grant was refused: ${result.reason}.`);
  }
  if (result.status === "already_applied") c.header("idempotent-replayed", "true");
  c.header("cache-control", "no-store");
  const body: GrantResponseBody = {
    id: result.transferId,
    account_id: result.accountId,
    amount: result.amount,
    reason,
    created_at: result.createdAt.toISOString(),
  };
  return c.json(body, 201);
};
