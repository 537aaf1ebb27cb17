import { env } from "cloudflare:workers";

type Counts = { requests: number; statements: number; ws_statements: number };

function databaseName() {
  return decodeURIComponent(new URL(env.DATABASE_URL).pathname.slice(1));
}

/** This test file's counters on the local Neon server (each file has its own database). */
export async function statementCounts(): Promise<Counts> {
  const response = await fetch(`${env.LOCAL_NEON_URL}/_stats`);
  const stats = (await response.json()) as { databases: Record<string, Counts> };
  return stats.databases[databaseName()] ?? { requests: 0, statements: 0, ws_statements: 0 };
}

/**
 * Runs `fn` and returns how many database statements and HTTP round trips it cost. Only meaningful
 * while nothing else in the same file talks to the database concurrently.
 */
export async function countStatements<T>(fn: () => Promise<T>): Promise<{ result: T } & Counts> {
  const before = await statementCounts();
  const result = await fn();
  const after = await statementCounts();
  return {
    result,
    requests: after.requests - before.requests,
    statements: after.statements - before.statements,
    ws_statements: after.ws_statements - before.ws_statements,
  };
}
