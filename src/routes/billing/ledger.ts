import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { TRANSFER_KINDS, TRANSFER_STATUSES } from "../../db/schema/index.ts";
import { errorResponses } from "../../errors/responses.ts";
import { listTransfers, MAX_PAGE_SIZE, TRANSFER_CURSOR_PATTERN } from "../../ledger/index.ts";
import { authenticate } from "../../middleware/authenticate.ts";
import { SESSION_OR_KEY } from "../security.ts";

export const LedgerQuery = z.object({
  cursor: z
    .string()
    .regex(TRANSFER_CURSOR_PATTERN, "must be a next_cursor from a previous page")
    .optional()
    .openapi({ description: "`next_cursor` of the previous page.", example: "1234" }),
  limit: z.coerce.number<string>().int().min(1).max(MAX_PAGE_SIZE).optional().openapi({ example: 25 }),
});

export const TransferEntrySchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(TRANSFER_KINDS),
    status: z.enum(TRANSFER_STATUSES),
    direction: z
      .enum(["credit", "debit"])
      .openapi({ description: "credit adds to the account, debit takes from it." }),
    amount: z.number().int(),
    ref: z.string().nullable(),
    hold_id: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "For a capture, release or expiry: the hold it resolves." }),
    metadata: z.record(z.string(), z.unknown()),
    expires_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("TransferEntry");

export const LedgerResponse = z
  .object({ data: z.array(TransferEntrySchema), next_cursor: z.string().nullable() })
  .openapi("LedgerPage");

export const route = createRoute({
  method: "get",
  path: "/api/billing/ledger",
  tags: ["billing"],
  summary: "The caller's transfers",
  description: "Newest first, keyset-paginated: pass `next_cursor` back as `cursor` until it is null.",
  security: SESSION_OR_KEY,
  middleware: [authenticate()] as const,
  request: { query: LedgerQuery },
  responses: {
    200: { description: "One page", content: { "application/json": { schema: LedgerResponse } } },
    ...errorResponses("validation_failed", "unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { cursor, limit } = c.req.valid("query");
  const { accountId } = c.get("caller");
  const page = await listTransfers(c.get("services").database, accountId, { cursor, limit });
  c.header("cache-control", "no-store");
  return c.json(
    {
      data: page.items.map((t) => ({
        id: t.id,
        kind: t.kind,
        status: t.status,
        direction: t.direction,
        amount: t.amount,
        ref: t.ref,
        hold_id: t.holdId,
        metadata: t.metadata,
        expires_at: t.expiresAt?.toISOString() ?? null,
        created_at: t.createdAt.toISOString(),
      })),
      next_cursor: page.nextCursor,
    },
    200,
  );
};
