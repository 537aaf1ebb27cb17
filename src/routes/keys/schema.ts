import { z } from "@hono/zod-openapi";

export const API_KEY_ID_EXAMPLE = "6f1c2b1e-8a52-4d7e-9a43-0c9d4b3e2f10";

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: API_KEY_ID_EXAMPLE }),
    name: z.string().openapi({ example: "CI pipeline" }),
    prefix: z.string().openapi({
      description: "The start of the key, to tell keys apart; not enough to use it.",
      example: "tg_production_7Hq2xK",
    }),
    environment: z.enum(["local", "staging", "production"]),
    created_at: z.string().openapi({ example: "2026-11-28T12:00:00.000Z" }),
    revoked_at: z.string().nullable().openapi({ example: null }),
  })
  .openapi("ApiKey");

export type ApiKeyView = z.infer<typeof ApiKeySchema>;
