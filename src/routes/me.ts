import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors/api-error.ts";
import { errorResponses } from "../errors/responses.ts";
import { getBalance } from "../ledger/index.ts";
import { authenticate } from "../middleware/authenticate.ts";
import { createRouter } from "./router.ts";
import { SESSION_OR_KEY } from "./security.ts";

export const MeResponse = z
  .object({
    account_id: z.string().openapi({ example: "0b7f5d8e-2c41-4a8e-9f0e-3d6a1c2b4e5f" }),
    authenticated_via: z.enum(["session", "key"]),
    balance: z.number().int().openapi({ description: "Posted credits.", example: 1000 }),
    held: z.number().int().openapi({ description: "Credits held by jobs still running.", example: 50 }),
    available: z
      .number()
      .int()
      .openapi({ description: "balance − held: what a new job can use.", example: 950 }),
  })
  .openapi("Me");

export const route = createRoute({
  method: "get",
  path: "/api/me",
  tags: ["account"],
  summary: "The caller's account and credits",
  security: SESSION_OR_KEY,
  middleware: [authenticate()] as const,
  responses: {
    200: { description: "The account", content: { "application/json": { schema: MeResponse } } },
    ...errorResponses("unauthorized"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = async (c) => {
  const { accountId, via } = c.get("caller");
  const balance = await getBalance(c.get("services").database, accountId);
  // The caller was resolved from this account a moment ago; a miss means it was removed in between.
  if (!balance) throw new ApiError("unauthorized", "The account no longer exists.");
  c.header("cache-control", "no-store");
  return c.json(
    {
      account_id: accountId,
      authenticated_via: via,
      balance: balance.balance,
      held: balance.held,
      available: balance.available,
    },
    200,
  );
};

export const meRoutes = createRouter().openapi(route, handler);
