import type { TransferKind, TransferStatus } from "../db/schema/index.ts";
import { isAccountId, toInteger, toTimestamp } from "./credits.ts";
import type { LedgerDatabase, TransferEntry, TransferPage } from "./types.ts";

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 25;

/** Cursors are the id of the last transfer of the previous page; anything else is refused. */
export const TRANSFER_CURSOR_PATTERN = /^[1-9]\d{0,15}$/;

type EntryRow = {
  id: string;
  kind: TransferKind;
  status: TransferStatus;
  direction: "credit" | "debit";
  amount: string;
  ref: string | null;
  pending_id: string | null;
  metadata: Record<string, unknown> | null;
  expires_at: Date | string | null;
  created_at: Date | string;
};

/**
 * One page of an account's own transfers, newest first (keyset pagination on the transfer id, so a
 * page never shifts when new transfers arrive). Only transfers that touch the account's own ledger
 * account are ever read; the other side is shown as a direction, never as a ledger account id.
 */
export async function listTransfers(
  database: LedgerDatabase,
  accountId: string,
  options: { cursor?: string | null; limit?: number } = {},
): Promise<TransferPage> {
  if (options.cursor && !TRANSFER_CURSOR_PATTERN.test(options.cursor)) {
    throw new RangeError("ledger: malformed transfer cursor");
  }
  if (!isAccountId(accountId)) return { items: [], nextCursor: null };
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
  const before = options.cursor ?? String(Number.MAX_SAFE_INTEGER);
  // Two index range scans (one per side) merged, each already limited: fast however long the history.
  const rows = (await database.sql`
    with me as (select ledger_account_id as id from accounts where id = ${accountId}::uuid),
    page as (
      (select t.* from transfers t, me where t.debit_account_id = me.id and t.id < ${before}::bigint
        order by t.id desc limit ${limit + 1})
      union all
      (select t.* from transfers t, me where t.credit_account_id = me.id and t.id < ${before}::bigint
        order by t.id desc limit ${limit + 1})
    )
    select p.id, p.kind, p.status, p.amount, p.ref, p.pending_id, p.metadata, p.expires_at, p.created_at,
      case when p.credit_account_id = me.id then 'credit' else 'debit' end as direction
    from page p, me
    order by p.id desc
    limit ${limit + 1}
  `) as EntryRow[];
  const items = rows.slice(0, limit).map(toEntry);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}

function toEntry(row: EntryRow): TransferEntry {
  return {
    id: toInteger(row.id, "id"),
    kind: row.kind,
    status: row.status,
    direction: row.direction,
    amount: toInteger(row.amount, "amount"),
    ref: row.ref,
    holdId: row.pending_id === null ? null : toInteger(row.pending_id, "pending_id"),
    metadata: row.metadata ?? {},
    expiresAt: row.expires_at === null ? null : toTimestamp(row.expires_at, "expires_at"),
    createdAt: toTimestamp(row.created_at, "created_at"),
  };
}
