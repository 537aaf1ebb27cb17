import { z } from "zod";
import { sqlFunction } from "../db/call.ts";
import type { InvariantReport, LedgerDatabase } from "./types.ts";

const ledgerCheck = sqlFunction(
  "ledger_check",
  {},
  z.object({ invariant: z.string(), ok: z.boolean().nullable(), detail: z.string() }),
);

/**
 * Runs `ledger_check()`: one row per invariant (docs/LEDGER.md), in one statement. Reads every
 * transfer, so it belongs in tests, audits and the restore check, not on the request path.
 */
export async function checkInvariants(database: LedgerDatabase): Promise<InvariantReport> {
  const invariants = await ledgerCheck(database, {});
  return {
    ok: invariants.every((row) => row.ok === true),
    invariants: invariants.map((row) => ({ ...row, ok: row.ok === true })),
  };
}
