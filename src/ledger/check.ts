import type { InvariantReport, InvariantRow, LedgerDatabase } from "./types.ts";

/**
 * Runs `ledger_check()`: one row per invariant of DESIGN §3 (and whatever billing and jobs add to it),
 * in one statement. Reads every transfer, so it belongs in tests, ops metrics and audits, not on the
 * request path.
 */
export async function checkInvariants(database: LedgerDatabase): Promise<InvariantReport> {
  const invariants = (await database.sql`
    select invariant, ok, detail from ledger_check()
  `) as InvariantRow[];
  return { ok: invariants.every((row) => row.ok === true), invariants };
}
