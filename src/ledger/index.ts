/**
 * The ledger (docs/LEDGER.md): double-entry credits in Postgres. Every function here is one statement,
 * and every state change is one call of a Postgres function that checks and applies it atomically.
 */
export { createAccount, getBalance } from "./accounts";
export { checkInvariants } from "./check";
export { isAccountId, isCreditAmount, MAX_CREDITS, toInteger } from "./credits";
export { listTransfers, MAX_PAGE_SIZE, TRANSFER_CURSOR_PATTERN } from "./history";
export { captureHold, expireHolds, placeHold, releaseHold } from "./holds";
export { grantCredits, topUp } from "./top-ups";
export type * from "./types";
