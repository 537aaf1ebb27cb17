// HTTP load with autocannon, and the statements each request cost: the local Neon server's counters
// (server side) divided by the requests the Worker logged for the route, with the Worker's own
// per-request count (src/middleware/request-log.ts) next to it as a cross-check.
import autocannon from "autocannon";
import type { LocalNeonStats } from "../../scripts/local-neon/server.ts";
import type { LogTally } from "./log-tally.ts";

export type RequestSpec = {
  method: string;
  path: string;
  build?: () => { headers?: Record<string, string>; body?: string };
};

export type LoadResult = {
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
};

/** What the counting needs of a running stack: its Neon counters, the Worker's log, its database. */
export type Counted = { neonStats(): Promise<LocalNeonStats>; tally: LogTally; database: string };

export async function runLoad({
  url,
  connections,
  seconds,
  amount,
  request,
}: {
  url: string;
  connections: number;
  seconds?: number;
  amount?: number;
  request: RequestSpec;
}): Promise<LoadResult> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds ?? 10,
    amount,
    // A request that takes this long means the stack is stuck, not slow; it counts as a timeout.
    timeout: 30,
    requests: [
      {
        method: request.method,
        path: request.path,
        ...(request.build
          ? {
              setupRequest: (req) => {
                const built = request.build?.() ?? {};
                return {
                  ...req,
                  headers: { ...req.headers, ...built.headers },
                  body: built.body ?? req.body,
                };
              },
            }
          : {}),
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = count;
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  return {
    connections,
    seconds: result.duration,
    requests: answered,
    rps: answered / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export type Measured<T> = {
  result: T;
  requests: number;
  durations: number[];
  workerP50: number | null;
  workerP99: number | null;
  neonStatements: number;
  loggedStatements: number;
  perRequest: number | null;
  loggedPerRequest: number | null;
};

/**
 * Counts what one stretch of traffic cost: snapshot before, run, wait until the Worker has logged
 * every request it received (autocannon can stop with requests in flight), snapshot after.
 * `routeKey` is `METHOD /route/pattern` as the Worker logs it.
 */
export async function measureStatements<T>(
  stack: Counted,
  routeKey: string,
  fn: () => Promise<T>,
): Promise<Measured<T>> {
  await settle(stack);
  const before = await countersOf(stack, routeKey);
  const durationsFrom = stack.tally.durationCount(routeKey);
  const result = await fn();
  await settle(stack);
  const after = await countersOf(stack, routeKey);
  const requests = after.requests - before.requests;
  const durations = stack.tally.durationsSince(routeKey, durationsFrom).sort((a, b) => a - b);
  return {
    result,
    requests,
    durations,
    workerP50: percentile(durations, 0.5),
    workerP99: percentile(durations, 0.99),
    neonStatements: after.neon - before.neon,
    loggedStatements: after.logged - before.logged,
    perRequest: requests > 0 ? (after.neon - before.neon) / requests : null,
    loggedPerRequest: requests > 0 ? (after.logged - before.logged) / requests : null,
  };
}

export function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

async function countersOf(stack: Counted, routeKey: string) {
  const stats = await stack.neonStats();
  const neon = stats.databases?.[stack.database]?.statements ?? 0;
  const snapshot = stack.tally.snapshot();
  let requests = 0;
  let logged = 0;
  for (const [key, value] of Object.entries(snapshot.requests)) {
    if (!key.startsWith(`${routeKey} `)) continue;
    requests += value.count;
    logged += value.statements;
  }
  return { neon, requests, logged };
}

/** Waits until neither the database counters nor the Worker's log move for a moment. */
export async function settle(stack: Counted, quietMs = 400, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  let last = "";
  while (Date.now() < deadline) {
    const stats = await stack.neonStats();
    const now = JSON.stringify([stats.databases?.[stack.database], stack.tally.snapshot()]);
    if (now === last) return;
    last = now;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

export type MergedRow = ReturnType<typeof mergeHalves>;

/**
 * One row from its two halves: rates from the totals, client percentiles as the mean of the halves
 * (autocannon reports percentiles, not samples), Worker-side percentiles from every logged duration.
 */
export function mergeHalves(parts: Measured<LoadResult>[]) {
  const requests = parts.reduce((n, p) => n + p.result.requests, 0);
  const secs = parts.reduce((n, p) => n + p.result.seconds, 0);
  const counted = parts.reduce((n, p) => n + p.requests, 0);
  const neonStatements = parts.reduce((n, p) => n + p.neonStatements, 0);
  const logged = parts.reduce((n, p) => n + p.loggedStatements, 0);
  const statuses: Record<string, number> = {};
  for (const p of parts)
    for (const [status, n] of Object.entries(p.result.statuses))
      statuses[status] = (statuses[status] ?? 0) + Number(n);
  const mean = (pick: (p: Measured<LoadResult>) => number | null) => {
    const values = parts.map(pick).filter((v): v is number => v !== null && v !== undefined);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  const durations = parts.flatMap((p) => p.durations ?? []).sort((a, b) => a - b);
  return {
    rps: requests / secs,
    p50: mean((p) => p.result.p50),
    p99: mean((p) => p.result.p99),
    workerP50: percentile(durations, 0.5),
    workerP99: percentile(durations, 0.99),
    requests,
    statuses,
    errors: parts.reduce((n, p) => n + p.result.errors + p.result.timeouts, 0),
    countedRequests: counted,
    neonStatements,
    statementsPerRequest: counted > 0 ? neonStatements / counted : null,
    loggedStatementsPerRequest: counted > 0 ? logged / counted : null,
  };
}

export type MergedLoads = ReturnType<typeof mergeLoads>;

export function mergeLoads(runs: LoadResult[]) {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  const secs = runs.reduce((n, r) => n + r.seconds, 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  return {
    requests,
    rps: requests / secs,
    p50: Math.max(...runs.map((r) => r.p50)),
    p99: Math.max(...runs.map((r) => r.p99)),
    statuses,
    rounds: runs.map((r) => Math.round(r.rps)),
  };
}
