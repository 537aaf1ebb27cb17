import { AsyncLocalStorage } from "node:async_hooks";
import { neonConfig } from "@neondatabase/serverless";

/** Database traffic of one request or invocation, as the Neon HTTP driver sent it. */
export type StatementCount = { statements: number; roundTrips: number };

const storage = new AsyncLocalStorage<StatementCount>();
let installed = false;

/** A batch (`sql.transaction([...])`) is one round trip carrying several statements. */
function statementsIn(body: unknown): number {
  if (typeof body !== "string" || !body.startsWith('{"queries":')) return 1;
  try {
    const parsed = JSON.parse(body) as { queries?: unknown[] };
    return Array.isArray(parsed.queries) ? parsed.queries.length : 1;
  } catch {
    return 1;
  }
}

/**
 * Counts what the Neon HTTP driver sends, per request, for the request log. The driver has one
 * global fetch hook; the count goes to whichever request's async context made the call (Workers run
 * several requests in one isolate at once), and calls outside any counted context pass straight
 * through. The WebSocket Pool is not counted: its statements do not go through fetch.
 */
export function installStatementCounter() {
  if (installed) return;
  installed = true;
  const previous = neonConfig.fetchFunction as typeof fetch | undefined;
  neonConfig.fetchFunction = (input: RequestInfo | URL, init?: RequestInit) => {
    const count = storage.getStore();
    if (count) {
      count.roundTrips += 1;
      count.statements += statementsIn(init?.body);
    }
    return (previous ?? globalThis.fetch)(input, init);
  };
}

export function countingStatements<T>(fn: () => Promise<T>): { count: StatementCount; done: Promise<T> } {
  const count: StatementCount = { statements: 0, roundTrips: 0 };
  return { count, done: storage.run(count, fn) };
}
