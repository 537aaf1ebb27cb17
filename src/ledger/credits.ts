/**
 * Credits and ledger ids are Postgres `bigint`s, kept here as JavaScript `number`s: exact up to
 * 2^53 − 1, and the schema caps every amount and running total at that value (CHECK constraints).
 * Rows are parsed with `int64` (src/db/columns.ts), which throws rather than round money.
 */
export const MAX_CREDITS = Number.MAX_SAFE_INTEGER;

/** A positive whole number of credits that survives the round trip exactly. */
export function isCreditAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** A ledger id as the database knows it: a positive safe integer. */
export function isLedgerId(value: unknown): value is number {
  return isCreditAmount(value);
}

/** JSON for a `jsonb` parameter; metadata is always an object so replays compare like with like. */
export function metadataOf(metadata: Record<string, unknown> | undefined): Record<string, unknown> {
  return metadata ?? {};
}
