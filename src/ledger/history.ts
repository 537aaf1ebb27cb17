import { z } from "zod";
import { sqlQuery } from "../db/call.ts";
import { int64, timestamp } from "../db/columns.ts";
import { TRANSFER_KINDS, TRANSFER_STATUSES } from "../db/schema/index.ts";
import { isUuid } from "../lib/encoding.ts";
import type { LedgerDatabase, TransferEntry, TransferPage } from "./types.ts";

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 25;

/** Cursors are the id of the last transfer of the previous page; anything else is refused. */
export const TRANSFER_CURSOR_PATTERN = /^[1-9]\d{0,15}$/;

const EntryRow = z.object({
  id: int64,
  kind: z.enum(TRANSFER_KINDS),
  status: z.enum(TRANSFER_STATUSES),
  direction: z.enum(["credit", "debit"]),
  amount: int64,
  ref: z.string().nullable(),
  pending_id: int64.nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  expires_at: timestamp.nullable(),
  created_at: timestamp,
});

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
  if (!isUuid(accountId)) return { items: [], nextCursor: null };
  const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
  const before = options.cursor ?? String(Number.MAX_SAFE_INTEGER);
  // Two index range scans (one per side) merged, each already limited: fast however long the history.
  const rows = await sqlQuery(
    database,
    "listTransfers",
    `with me as (select ledger_account_id as id from accounts where id = $1::uuid),
    page as (
      (select t.* from transfers t, me where t.debit_account_id = me.id and t.id < $2::bigint
        order by t.id desc limit $3)
      union all
      (select t.* from transfers t, me where t.credit_account_id = me.id and t.id < $2::bigint
        order by t.id desc limit $3)
    )
    select p.id, p.kind, p.status, p.amount, p.ref, p.pending_id, p.metadata, p.expires_at, p.created_at,
      case when p.credit_account_id = me.id then 'credit' else 'debit' end as direction
    from page p, me
    order by p.id desc
    limit $3`,
    [accountId, before, limit + 1],
    EntryRow,
  );
  const items: TransferEntry[] = rows.slice(0, limit).map((row) => ({
    id: row.id,
    kind: row.kind,
    status: row.status,
    direction: row.direction,
    amount: row.amount,
    ref: row.ref,
    holdId: row.pending_id,
    metadata: row.metadata ?? {},
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
