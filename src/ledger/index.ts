/**
 * The ledger (docs/LEDGER.md): double-entry credits in Postgres. Every function here is one statement,
 * and every state change is one call of a Postgres function that checks and applies it atomically.
 */
export { createAccount, getBalance } from "./accounts.ts";
export { checkInvariants } from "./check.ts";
export { isCreditAmount, MAX_CREDITS } from "./credits.ts";
export { listTransfers, MAX_PAGE_SIZE, TRANSFER_CURSOR_PATTERN } from "./history.ts";
export { grantCredits, topUp } from "./top-ups.ts";
export type * from "./types.ts";
