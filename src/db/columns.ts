import { z } from "zod";

/**
 * Column parsers for rows as the Neon driver hands them over: bigint as decimal text, timestamptz as a
 * Date (or, inside jsonb, as text). Credits are kept as JavaScript numbers, exact up to 2^53 − 1, and
 * the schema caps every amount and total there; a value past it throws rather than rounds money.
 */
export const int64 = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const n = typeof value === "number" ? value : /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    ctx.addIssue({ code: "custom", message: "not a safe integer" });
    return z.NEVER;
  }
  return n;
});

export const timestamp = z.union([z.date(), z.string()]).transform((value, ctx) => {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: "not a timestamp" });
    return z.NEVER;
  }
  return date;
});

/** A timestamp as ISO-8601 text, for values passed straight into JSON responses. */
export const isoTimestamp = timestamp.transform((date) => date.toISOString());
