import type { SqlClient } from "../db/client.ts";
import type { TransferKind, TransferStatus } from "../db/schema/index.ts";

/** The ledger only needs the raw Neon client: each call below is exactly one statement. */
export type LedgerDatabase = SqlClient;

/** What a ledger function did: the first call applies, a replay answers already_applied. */
export type Applied = "applied" | "already_applied";

/** balance = credits − debits (posted); held = open holds; available = balance − held. */
export type Balances = { balance: number; held: number; available: number };

export type AccountResult = { status: Applied; accountId: string; ledgerAccountId: number };

export type AccountBalance = Balances & { accountId: string; ledgerAccountId: number };

export type CreditInput = {
  accountId: string;
  amount: number;
  /** External reference; the transfer is made at most once per ref (e.g. a Checkout Session id). */
  ref: string;
  metadata?: Record<string, unknown>;
};

export type CreditRejection = "invalid_amount" | "ref_required" | "ref_conflict" | "account_not_found";

export type CreditResult =
  | (Balances & { status: Applied; transferId: number; accountId: string; amount: number; createdAt: Date })
  | { status: "rejected"; reason: CreditRejection; accountId: string; amount: number };

/** One line of an account's history, seen from that account. */
export type TransferEntry = {
  id: number;
  kind: TransferKind;
  status: TransferStatus;
  /** credit: money came in (top-up, grant); debit: money held or spent. */
  direction: "credit" | "debit";
  amount: number;
  ref: string | null;
  /** For a capture, release or expiry: the hold it resolved. */
  holdId: number | null;
  metadata: Record<string, unknown>;
  expiresAt: Date | null;
  createdAt: Date;
};

export type TransferPage = { items: TransferEntry[]; nextCursor: string | null };

export type InvariantRow = { invariant: string; ok: boolean; detail: string };
export type InvariantReport = { ok: boolean; invariants: InvariantRow[] };
