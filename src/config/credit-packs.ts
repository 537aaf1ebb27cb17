import { z } from "zod";

/**
 * Credit packs on sale: what a customer pays (`amount`, in the currency's minor units) for how many
 * credits. This table is the only source of amounts: Checkout is created from it, and fulfilment
 * checks every paid session against it, so a client or edited metadata can never choose a price.
 */
export const CreditPackSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "lowercase letters, digits, - and _ (1–40)"),
    name: z.string().trim().min(1).max(100).optional(),
    credits: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    // Stripe's own bounds for a Checkout total in minor units (its minimum depends on the currency).
    amount: z.number().int().min(1).max(99_999_999),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, "an ISO 4217 code such as usd")
      .transform((c) => c.toLowerCase()),
    /** A Stripe Price to show on the Checkout page; without one the session carries the price inline. */
    stripe_price_id: z
      .string()
      .regex(/^price_[A-Za-z0-9]+$/)
      .optional(),
  })
  .strict();

export type CreditPack = z.output<typeof CreditPackSchema>;

export const DEFAULT_CREDIT_PACKS: readonly CreditPack[] = [
  { id: "starter", name: "Starter", credits: 1_000, amount: 1_000, currency: "usd" },
  { id: "standard", name: "Standard", credits: 5_500, amount: 5_000, currency: "usd" },
  { id: "pro", name: "Pro", credits: 12_000, amount: 10_000, currency: "usd" },
];

const PackListSchema = z
  .array(CreditPackSchema)
  .min(1, "at least one pack")
  .max(50)
  .refine((packs) => new Set(packs.map((p) => p.id)).size === packs.length, "pack ids must be unique");

/**
 * `CREDIT_PACKS` as the config schema reads it: empty or unset → the built-in packs; otherwise a JSON
 * array of packs, and anything malformed makes the whole config invalid (so `/api/ready` fails and no
 * checkout runs on a half-understood price list).
 */
export const CreditPacksVariable = z
  .string()
  .optional()
  .transform((raw, ctx): readonly CreditPack[] => {
    if (raw === undefined || raw.trim() === "") return DEFAULT_CREDIT_PACKS;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: "custom", message: "must be a JSON array of credit packs" });
      return z.NEVER;
    }
    const parsed = PackListSchema.safeParse(json);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: "custom", message: `${issue.path.join(".") || "(root)"}: ${issue.message}` });
      }
      return z.NEVER;
    }
    return parsed.data;
  });

export function findPack(packs: readonly CreditPack[], id: string | undefined): CreditPack | undefined {
  return id === undefined ? undefined : packs.find((pack) => pack.id === id);
}
