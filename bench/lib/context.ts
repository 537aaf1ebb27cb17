// The one bench run's settings, results and helpers, shared by its phases. bench/run.ts fills it in
// once, before any phase starts.
import type { LocalStack } from "../../scripts/lib/stack.ts";
import type { Bundle } from "./bundle.ts";
import type { CycleComparison, CycleProfile, HotAccountComparison, StatementLatencies } from "./db-cycle.ts";
import type { MergedLoads, MergedRow } from "./http-load.ts";
import type { LogTally } from "./log-tally.ts";
import type { Machine } from "./machine.ts";

export type HttpRow = { scenario: string; label: string; connections: number } & MergedRow;
export type StatementEntry = {
  statements: number;
  requests: number;
  perRequest: number | null;
  unit?: string;
  note?: string;
};
export type Single = { label: string; requests: number; perRequest: number | null; note: string };
export type Budget = { budget: string; measured: string; pass: boolean | null; note?: string };
export type EndToEnd = {
  jobs: number;
  succeeded: number;
  finished: number;
  connections: number;
  waitedSeconds: number;
  spanSeconds: number;
  jobsPerSecond: number;
  p50Seconds: number;
  p99Seconds: number;
  statementsPerJob: number | null;
  consumer: { batches: number; jobsPerBatch: number | null; statementsPerBatch: number | null };
  functionCalls: Record<string, number>;
};

export type BenchResults = {
  generatedAt: string;
  options: { quick: boolean; seconds: number; concurrencies: number[]; sections: string[] };
  http: HttpRow[];
  statements: Record<string, StatementEntry>;
  singles: Single[];
  notes: string[];
  machine?: Machine;
  bundle?: Omit<Bundle, "file">;
  endToEnd?: EndToEnd;
  db?: {
    cycles?: CycleComparison;
    statementLatencies?: StatementLatencies;
    cycleProfile?: CycleProfile;
    metricsScan?: { transfers: number; jobs: number; p50: number };
    hotAccount?: HotAccountComparison;
  };
  hotAccountHttp?: { connections: number; accounts: number; hot: MergedLoads; spread: MergedLoads };
  ledger?: { ok: boolean; broken: string[] };
  budgets?: Budget[];
};

/** A stack serving the prebuilt bundle on the bench database, with the Worker's log tallied. */
export type BenchStack = { stack: LocalStack; tally: LogTally };

export type BenchRun = {
  results: BenchResults;
  log: (line: string) => void;
  quick: boolean;
  seconds: number;
  only: Set<string>;
  workDir: string;
  keep: boolean;
  adminUrl: string;
  database: string;
  databaseUrl: string;
  graphileDatabase: string;
  graphileUrl: string;
  cleanups: Array<() => Promise<void>>;
  adminToken: string;
  webhookSecret: string;
  jobBody: string;
  credits: number;
  concurrencies: number[];
  hotConnections: number;
  dbConnections: number;
  e2eJobs: number;
  e2eConnections: number;
  /** wrangler dev on `script`; `name` tells its env file and state apart from the other phases'. */
  startStack(options: {
    script: string;
    name: string;
    role?: "all-in-one" | "web";
    vars: Record<string, string>;
  }): Promise<BenchStack>;
  addStatements(
    name: string,
    statements: number,
    requests: number,
    extra?: { unit?: string; note?: string },
  ): void;
};

/** Filled in by bench/run.ts before any phase starts. */
export const run = {} as BenchRun;

export const fixed = (n: number | null | undefined, d = 1) =>
  typeof n === "number" && Number.isFinite(n) ? n.toFixed(d) : "–";

/** Round-robin over a pool, so no single API key meets the per-key rate limit. */
export function rotation(items: string[]): () => string {
  let i = 0;
  return () => items[i++ % items.length] ?? "";
}
