/**
 * Credits and ledger ids are Postgres `bigint`; the Neon driver hands them over as decimal strings.
 * Tollgate keeps them as JavaScript `number`s, which are exact up to 2^53 − 1, and the schema caps
 * every amount and running total at that value (CHECK constraints), so a conversion here can only fail
 * on a bug — and then it throws instead of rounding money.
 */
export const MAX_CREDITS = Number.MAX_SAFE_INTEGER;

const INTEGER_TEXT = /^-?\d{1,16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A positive whole number of credits that survives the round trip exactly. */
export function isCreditAmount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}

/** A ledger id as the database knows it: a positive safe integer. */
export function isLedgerId(value: unknown): value is number {
  return isCreditAmount(value);
}

/** Account ids are uuids; checking first keeps a malformed id a "not found", not a SQL error. */
export function isAccountId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

/** A bigint column (string from the driver) as an exact number; throws rather than lose precision. */
export function toInteger(value: unknown, column: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && INTEGER_TEXT.test(value)) {
    const parsed = Number(value);
    if (Number.isSafeInteger(parsed)) return parsed;
  }
  throw new RangeError(`ledger: ${column} is not a safe integer`);
}

export function toTimestamp(value: unknown, column: string): Date {
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new RangeError(`ledger: ${column} is not a timestamp`);
  return date;
}

/** JSON for a `jsonb` parameter; metadata is always an object so replays compare like with like. */
export function metadataJson(metadata: Record<string, unknown> | undefined): string {
  return JSON.stringify(metadata ?? {});
}
