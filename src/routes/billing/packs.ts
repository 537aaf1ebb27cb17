import { createRoute, type RouteHandler, z } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env.ts";
import { errorResponses } from "../../errors/responses.ts";

export const PackSchema = z
  .object({
    id: z.string().openapi({ example: "starter" }),
    name: z.string().openapi({ example: "Starter" }),
    credits: z.number().int().openapi({ description: "Credits added to the balance.", example: 1000 }),
    amount: z
      .number()
      .int()
      .openapi({ description: "Price in the currency's minor units (cents).", example: 1000 }),
    currency: z.string().openapi({ description: "ISO 4217, lowercase.", example: "usd" }),
  })
  .openapi("CreditPack");

export const PacksResponse = z.object({ packs: z.array(PackSchema) }).openapi("CreditPacks");

export const route = createRoute({
  method: "get",
  path: "/api/billing/packs",
  tags: ["billing"],
  summary: "Credit packs on sale",
  description: "The packs `POST /api/billing/checkout` sells (CREDIT_PACKS). No authentication.",
  responses: {
    200: { description: "The packs", content: { "application/json": { schema: PacksResponse } } },
    ...errorResponses("service_unavailable"),
  },
});

export const handler: RouteHandler<typeof route, AppEnv> = (c) => {
  const { config } = c.get("services");
  const packs = config.CREDIT_PACKS.map((p) => ({
    id: p.id,
    name: p.name ?? p.id,
    credits: p.credits,
    amount: p.amount,
    currency: p.currency,
  }));
  c.header("cache-control", "public, max-age=60");
  return c.json({ packs }, 200);
};
