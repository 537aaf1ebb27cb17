// PLACEHOLDER, to be deleted: only the agreed signature, so go-live compiles before the real module
// of this name (which runs the same steps as the CLI) replaces it. Calling verifyRestore throws.
import type { Row } from "./report-table.ts";

export type VerifyRestoreOptions = {
  backupPath: string;
  databaseUrl: string;
  targetUrl?: string;
  keep?: boolean;
  pgBin?: string;
  log?: (line: string) => void;
};

export type VerifyRestoreResult = {
  ok: boolean;
  rows: Row[];
  failure: string | null;
  restoredUrl: string | null;
};

export async function verifyRestore(_options: VerifyRestoreOptions): Promise<VerifyRestoreResult> {
  throw new Error("verifyRestore: not merged yet (placeholder for scripts/lib/verify-restore.ts)");
}
