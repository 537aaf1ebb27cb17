// PLACEHOLDER, to be deleted: only the agreed signature, so go-live compiles before the real module
// of this name (which runs the same steps as the CLI) replaces it. Calling backupDatabase throws.
import type { Row } from "./report-table.ts";

export type RetentionPolicy = { daily: number; weekly: number; monthly: number };

export type BackupOptions = {
  databaseUrl: string;
  outDir: string;
  policy?: RetentionPolicy;
  pgBin?: string;
  log?: (line: string) => void;
};

export type BackupResult = {
  ok: boolean;
  dumpPath: string | null;
  manifestPath: string | null;
  rows: Row[];
  failure: string | null;
};

export async function backupDatabase(_options: BackupOptions): Promise<BackupResult> {
  throw new Error("backupDatabase: not merged yet (placeholder for scripts/lib/backup-run.ts)");
}
