// Database-level throughput, without the Worker or HTTP in the way: Tollgate's job cycle through its
// SQL functions against graphile-worker's on the same Postgres and concurrency, and job creation on
// one hot account against the same load spread over many accounts.
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Logger, runMigrations as migrateGraphileWorker } from "graphile-worker";
import pg from "pg";
import { sqlClientOf } from "../../scripts/lib/sql-client.ts";
import { JOB_TYPES, leaseSeconds } from "../../src/jobs/registry.ts";
import { claimJobs, completeJobs, createJob } from "../../src/jobs/store.ts";

const require = createRequire(import.meta.url);
const GRAPHILE_DIST = dirname(require.resolve("graphile-worker"));
/** graphile-worker's own internals, so its side runs the exact SQL its worker runs (not a rewrite of it). */
const graphileInternal = async (file: string) => import(pathToFileURL(join(GRAPHILE_DIST, file)).href);

/** Any 64-hex fingerprint: create_job only compares it with a replay's. */
const FINGERPRINT = "0".repeat(64);
const ECHO = (() => {
  const type = JOB_TYPES.get("echo");
  if (!type) throw new Error("no echo job type");
  return type;
})();
/** What POST /api/jobs stores for `{"type": "echo"}`: the input with its defaults, and its hold. */
const ECHO_INPUT = ECHO.input.parse({});
const ECHO_HOLD = ECHO.cost(ECHO_INPUT);
/** The queue consumer's lease. */
const LEASE_SECONDS = leaseSeconds(JOB_TYPES);

type Cycle = (client: pg.Client, index: number) => Promise<number | boolean>;
type LoopResult = Awaited<ReturnType<typeof loop>>;

/** One create_job as POST /api/jobs makes it, on an account (no key lookup at this level). */
async function createEcho(client: pg.Client, accountId: string, idempotencyKey: string = randomUUID()) {
  return createJob(sqlClientOf(client), {
    caller: { via: "account", accountId },
    idempotencyKey,
    fingerprint: FINGERPRINT,
    type: ECHO.name,
    input: ECHO_INPUT,
    cost: ECHO_HOLD,
    maxAttempts: ECHO.maxAttempts,
  });
}

/** Runs `cycle` (answering the jobs it completed) back to back on every client until the time is up. */
async function loop(clients: pg.Client[], ms: number, cycle: Cycle) {
  const latencies: number[] = [];
  let jobs = 0;
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    clients.map(async (client, index) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const done = Number(await cycle(client, index));
        if (done > 0) {
          jobs += done;
          latencies.push(performance.now() - t0);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { cycles: latencies.length, jobs, seconds, perSecond: jobs / seconds, p50: at(0.5), p99: at(0.99) };
}

async function connectAll(url: string, n: number) {
  const clients = Array.from({ length: n }, () => new pg.Client({ connectionString: url }));
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}

/**
 * Tollgate's paid-job cycle for `batch` jobs, each statement one call of its SQL functions through
 * the Worker's own wrappers (src/jobs/store.ts): `batch` × create_job (one per API request), then one
 * claim_jobs and one complete_jobs for the batch, as the queue consumer does per delivered batch.
 *   create_job     resolve the account, claim the Idempotency-Key, place the hold (lock the user and a
 *                  revenue shard row, update both, insert the hold transfer), insert the job, store the
 *                  response for replays
 *   claim_jobs     lock the jobs, check their holds are still pending, queued → running with a lease
 *   complete_jobs  lock jobs, holds and ledger rows, capture each hold (post it, update both ledger
 *                  rows, insert the capture transfer), running → succeeded with the output
 * Rows are kept: jobs and transfers are the history and the money trail.
 * `accountIds`: one per client (spread), or the same id for all.
 */
export function tollgateCycle(accountIds: string[], batch: number): Cycle {
  return async (client, index) => {
    const account = accountIds[index % accountIds.length] ?? "";
    const ids: string[] = [];
    for (let i = 0; i < batch; i += 1) {
      const created = await createEcho(client, account);
      if (created.status !== "created") throw new Error(`create_job: ${JSON.stringify(created)}`);
      ids.push(created.job.id);
    }
    const database = sqlClientOf(client);
    const claimed = await claimJobs(database, ids, LEASE_SECONDS);
    if (claimed.some((c) => c.outcome !== "claimed")) throw new Error("claim_jobs: a job was not claimed");
    const completed = await completeJobs(
      database,
      claimed.map((c) => ({ job_id: c.jobId, attempt: c.attempt, outcome: "succeeded", output: {} })),
    );
    if (completed.some((c) => c.outcome !== "succeeded")) throw new Error("complete_jobs: not all succeeded");
    return batch;
  };
}

/** One client's graphile-worker helpers, made once per connection. */
type GraphileClient = {
  withPgClient: unknown;
  addJob: (task: string, payload: unknown) => Promise<unknown>;
  workerId: string;
};

/**
 * graphile-worker's cycle for `batch` no-op jobs, through its own code: `batch` × `makeAddJob` (the
 * `graphile_worker.add_job()` call WorkerUtils.addJob makes: insert the job, NOTIFY), then its worker's
 * `batchGetJobs` for up to `batch` jobs (SKIP LOCKED select, attempts + 1, locked_by/locked_at; a
 * named prepared statement, as its worker uses by default) and `batchCompleteJobs` (delete the rows).
 * Batch 1 is its worker's default; batch 10 is what its getJobBatchSize and completeJobBatchDelay
 * options buy. No money, no idempotency, no history: a finished job is gone. A get may take jobs
 * another client added; what counts is jobs completed.
 */
export async function graphileWorkerCycle(url: string, batch: number): Promise<Cycle> {
  const [
    { processSharedOptions, makeEnhancedWithPgClient },
    { makeAddJob },
    { batchGetJobs },
    { batchCompleteJobs },
  ] = await Promise.all([
    graphileInternal("lib.js"),
    graphileInternal("helpers.js"),
    graphileInternal("sql/getJobs.js"),
    graphileInternal("sql/completeJobs.js"),
  ]);
  const compiled = processSharedOptions({ connectionString: url, logger: quietLogger() });
  const tasks = { bench_noop: async () => {} };
  const perClient = new Map<pg.Client, GraphileClient>();
  return async (client, index) => {
    let own = perClient.get(client);
    if (!own) {
      const withPgClient = makeEnhancedWithPgClient((fn: (c: pg.Client) => unknown) => fn(client));
      own = { withPgClient, addJob: makeAddJob(compiled, withPgClient), workerId: `bench_worker_${index}` };
      perClient.set(client, own);
    }
    for (let i = 0; i < batch; i += 1) await own.addJob("bench_noop", {});
    const jobs: unknown[] = await batchGetJobs(compiled, own.withPgClient, tasks, own.workerId, null, batch);
    if (jobs.length === 0) return 0;
    for (const _job of jobs) await tasks.bench_noop();
    await batchCompleteJobs(compiled, own.withPgClient, own.workerId, jobs);
    return jobs.length;
  };
}

function quietLogger() {
  return new Logger(() => () => {});
}

/** Installs graphile-worker in its own database (`url`), so neither schema sees the other's load. */
export async function installGraphileWorker(url: string): Promise<void> {
  await migrateGraphileWorker({ connectionString: url, logger: quietLogger() });
}

export type CycleComparison = Awaited<ReturnType<typeof compareCycles>>;

/**
 * Both cycles on the same Postgres at the same concurrency, for each batch size, in alternating
 * rounds (T G G T …) so that background load on a shared machine hits both sides alike.
 */
export async function compareCycles({
  tollgateUrl,
  graphileUrl,
  accountIds,
  connections,
  seconds,
  batches,
}: {
  tollgateUrl: string;
  graphileUrl: string;
  accountIds: string[];
  connections: number;
  seconds: number;
  batches: number[];
}) {
  const tollgateClients = await connectAll(tollgateUrl, connections);
  const graphileClients = await connectAll(graphileUrl, connections);
  const ROUNDS = 4;
  try {
    const variants = [];
    for (const batch of batches) {
      const tollgate = tollgateCycle(accountIds, batch);
      const graphile = await graphileWorkerCycle(graphileUrl, batch);
      await loop(tollgateClients, 500, tollgate);
      await loop(graphileClients, 500, graphile);
      const runs: { tollgate: LoopResult[]; graphile: LoopResult[] } = { tollgate: [], graphile: [] };
      for (let round = 0; round < ROUNDS; round += 1) {
        const ms = (seconds * 1000) / ROUNDS;
        const sides =
          round % 2 === 0 ? (["tollgate", "graphile"] as const) : (["graphile", "tollgate"] as const);
        for (const side of sides) {
          runs[side].push(
            side === "tollgate"
              ? await loop(tollgateClients, ms, tollgate)
              : await loop(graphileClients, ms, graphile),
          );
        }
      }
      variants.push({ batch, tollgate: mergeRuns(runs.tollgate), graphileWorker: mergeRuns(runs.graphile) });
    }
    return { connections, variants };
  } finally {
    await Promise.all([...tollgateClients, ...graphileClients].map((c) => c.end().catch(() => {})));
  }
}

function mergeRuns(runs: LoopResult[]) {
  const jobs = runs.reduce((n, r) => n + r.jobs, 0);
  const secs = runs.reduce((n, r) => n + r.seconds, 0);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    jobs,
    seconds: secs,
    perSecond: jobs / secs,
    cycleP50: mean(runs.map((r) => r.p50)),
    cycleP99: mean(runs.map((r) => r.p99)),
    rounds: runs.map((r) => Math.round(r.perSecond)),
  };
}

export type StatementLatencies = Record<string, { p50: number; p90: number }>;

/**
 * One client, one statement at a time: what each call costs the database itself, without any
 * contention. Explains the HTTP budget: the gap between POST /api/jobs and the select-1 baseline is
 * mostly this gap.
 */
export async function statementLatencies(
  url: string,
  accountId: string,
  n: number,
): Promise<StatementLatencies> {
  const [client] = await connectAll(url, 1);
  if (!client) throw new Error("no client");
  const time = async (fn: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i += 1) await fn();
    const samples: number[] = [];
    for (let i = 0; i < n; i += 1) {
      const t0 = performance.now();
      await fn();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { p50: samples[Math.floor(n / 2)] ?? 0, p90: samples[Math.floor(n * 0.9)] ?? 0 };
  };
  const create = (key: string) => createEcho(client, accountId, key);
  try {
    const replayKey = `bench-replay-${randomUUID()}`;
    await create(replayKey);
    const rows: StatementLatencies = {
      "select 1": await time(() => client.query("select 1")),
      "create_job (fresh key)": await time(() => create(randomUUID())),
      "create_job (replay)": await time(() => create(replayKey)),
    };
    // The same statement without waiting for its commit record to reach the disk: the share of the
    // durable commit, which a read such as select 1 never pays.
    await client.query("set synchronous_commit = off");
    rows["create_job (fresh key), synchronous_commit off"] = await time(() => create(randomUUID()));
    return rows;
  } finally {
    await client.end();
  }
}

type FunctionStat = { funcname: string; calls: number; self_time: number; total_time: number };

export type CycleProfile = Awaited<ReturnType<typeof profileCycles>>;

/**
 * Where one job cycle's time goes, one client, one job at a time: each statement of both cycles, and
 * for Tollgate the time inside each of its SQL functions (pg_stat_user_functions with
 * track_functions = all for this session; self time excludes the functions it calls).
 */
export async function profileCycles({
  tollgateUrl,
  graphileUrl,
  accountId,
  n,
}: {
  tollgateUrl: string;
  graphileUrl: string;
  accountId: string;
  n: number;
}) {
  const [tollgate] = await connectAll(tollgateUrl, 1);
  const [graphile] = await connectAll(graphileUrl, 1);
  const [reader] = await connectAll(tollgateUrl, 1);
  if (!tollgate || !graphile || !reader) throw new Error("no client");
  const samples: Record<string, number[]> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await fn();
    samples[name] = [...(samples[name] ?? []), performance.now() - t0];
    return result;
  };
  const functionStats = async (): Promise<FunctionStat[]> =>
    (
      await reader.query(
        "select funcname, calls::float8 as calls, self_time, total_time from pg_stat_user_functions",
      )
    ).rows;
  try {
    const { processSharedOptions, makeEnhancedWithPgClient } = await graphileInternal("lib.js");
    const { makeAddJob } = await graphileInternal("helpers.js");
    const { batchGetJobs } = await graphileInternal("sql/getJobs.js");
    const { batchCompleteJobs } = await graphileInternal("sql/completeJobs.js");
    const compiled = processSharedOptions({ connectionString: graphileUrl, logger: quietLogger() });
    const withPgClient = makeEnhancedWithPgClient((fn: (c: pg.Client) => unknown) => fn(graphile));
    const addJob = makeAddJob(compiled, withPgClient);
    const tasks = { bench_noop: async () => {} };
    const database = sqlClientOf(tollgate);
    await tollgate.query("set track_functions = 'all'");
    const before = await functionStats();
    for (let i = 0; i < n; i += 1) {
      const created = await timed("create_job", () => createEcho(tollgate, accountId));
      if (created.status !== "created") throw new Error(`create_job: ${JSON.stringify(created)}`);
      const claimed = await timed("claim_jobs", () => claimJobs(database, [created.job.id], LEASE_SECONDS));
      await timed("complete_jobs", () =>
        completeJobs(
          database,
          claimed.map((c) => ({ job_id: c.jobId, attempt: c.attempt, outcome: "succeeded" })),
        ),
      );
      await timed("add_job", () => addJob("bench_noop", {}));
      const jobs = await timed("get_job", () =>
        batchGetJobs(compiled, withPgClient, tasks, "bench_profile", null, 1),
      );
      await timed("complete_job", () => batchCompleteJobs(compiled, withPgClient, "bench_profile", jobs));
    }
    // A backend flushes its statistics at exit; end the session and wait for the numbers to land.
    await tollgate.end();
    let after = await functionStats();
    for (let i = 0; i < 20 && JSON.stringify(after) === JSON.stringify(before); i += 1) {
      await new Promise((r) => setTimeout(r, 250));
      after = await functionStats();
    }
    const p50 = (name: string) => {
      const sorted = [...(samples[name] ?? [])].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)] ?? 0;
    };
    const functions = after
      .map((row) => {
        const was = before.find((b) => b.funcname === row.funcname);
        const calls = row.calls - (was?.calls ?? 0);
        return {
          name: row.funcname,
          callsPerJob: calls / n,
          selfMsPerJob: (row.self_time - (was?.self_time ?? 0)) / n,
          totalMsPerJob: (row.total_time - (was?.total_time ?? 0)) / n,
        };
      })
      .filter((f) => f.callsPerJob > 0)
      .sort((a, b) => b.selfMsPerJob - a.selfMsPerJob);
    return {
      jobs: n,
      tollgate: {
        create_job: p50("create_job"),
        claim_jobs: p50("claim_jobs"),
        complete_jobs: p50("complete_jobs"),
      },
      graphileWorker: { add_job: p50("add_job"), get_job: p50("get_job"), complete_job: p50("complete_job") },
      functions,
    };
  } finally {
    await Promise.all([tollgate, graphile, reader].map((c) => c.end().catch(() => {})));
  }
}

export type HotAccountComparison = Awaited<ReturnType<typeof compareHotAccount>>;

/**
 * create_job on one account from every connection against the same load spread over one account per
 * connection: the single busy account's ledger row is where job creation serializes (place_hold locks
 * it), so this is the first limit one big customer meets.
 */
export async function compareHotAccount({
  url,
  hotAccount,
  spreadAccounts,
  connections,
  seconds,
}: {
  url: string;
  hotAccount: string;
  spreadAccounts: string[];
  connections: number;
  seconds: number;
}) {
  const clients = await connectAll(url, connections);
  const create =
    (accounts: string[]): Cycle =>
    async (c, i) => {
      const created = await createEcho(c, accounts[i % accounts.length] ?? "");
      if (created.status !== "created") throw new Error(`create_job: ${JSON.stringify(created)}`);
      return true;
    };
  try {
    await loop(clients, 500, create(spreadAccounts));
    const hot: LoopResult[] = [];
    const spread: LoopResult[] = [];
    for (let round = 0; round < 2; round += 1) {
      hot.push(await loop(clients, (seconds * 1000) / 2, create([hotAccount])));
      spread.push(await loop(clients, (seconds * 1000) / 2, create(spreadAccounts)));
    }
    const merge = (runs: LoopResult[]) => {
      const cycles = runs.reduce((n, r) => n + r.cycles, 0);
      const secs = runs.reduce((n, r) => n + r.seconds, 0);
      return {
        creates: cycles,
        perSecond: cycles / secs,
        p50: Math.max(...runs.map((r) => r.p50)),
        p99: Math.max(...runs.map((r) => r.p99)),
      };
    };
    return { connections, accounts: spreadAccounts.length, hot: merge(hot), spread: merge(spread) };
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => {})));
  }
}
