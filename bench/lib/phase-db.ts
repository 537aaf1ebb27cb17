// The database phase: Tollgate's job cycle against graphile-worker's, statement latencies with one
// client, what ops_metrics() costs as the tables grow, and the hot account at the SQL level.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { sqlClientOf } from "../../scripts/lib/sql-client.ts";
import { dropDatabase, withClient } from "../../scripts/lib/stack.ts";
import { getBalance, grantCredits } from "../../src/ledger/index.ts";
import { fixed, run } from "./context.ts";
import {
  compareCycles,
  compareHotAccount,
  installGraphileWorker,
  profileCycles,
  statementLatencies,
} from "./db-cycle.ts";

type Account = { accountId: string };

export async function dbPhase(spread: Account[]) {
  const {
    results,
    log,
    quick,
    seconds,
    adminUrl,
    databaseUrl,
    graphileDatabase,
    graphileUrl,
    cleanups,
    keep,
    dbConnections: DB_CONNECTIONS,
  } = run;
  log(`database cycle: Tollgate against graphile-worker, ${DB_CONNECTIONS} connections, ${seconds} s each`);
  cleanups.push(async () => {
    if (!keep) await dropDatabase(adminUrl, graphileDatabase);
  });
  await withClient(adminUrl, (c) => c.query(`create database "${graphileDatabase}"`));
  await installGraphileWorker(graphileUrl);
  await ensureCredits(spread);
  const cycles = await compareCycles({
    tollgateUrl: databaseUrl,
    graphileUrl,
    accountIds: spread.slice(0, DB_CONNECTIONS).map((a) => a.accountId),
    connections: DB_CONNECTIONS,
    seconds: seconds * 2,
    batches: [1, 10],
  });
  results.db = { ...(results.db ?? {}), cycles };
  for (const v of cycles.variants) {
    log(
      `  batch ${String(v.batch).padStart(2)}: Tollgate ${fixed(v.tollgate.perSecond, 0)} jobs/s, graphile-worker ${fixed(v.graphileWorker.perSecond, 0)} jobs/s (${fixed(v.tollgate.perSecond / v.graphileWorker.perSecond, 2)}×)`,
    );
  }
  const account = spread[spread.length - 1];
  if (account) {
    results.db.statementLatencies = await statementLatencies(
      databaseUrl,
      account.accountId,
      quick ? 100 : 300,
    );
    for (const [name, t] of Object.entries(results.db.statementLatencies))
      log(`  one client: ${name.padEnd(48)} p50 ${fixed(t.p50, 2)} ms`);
  }
  if (account) {
    const profile = await profileCycles({
      tollgateUrl: databaseUrl,
      graphileUrl,
      accountId: account.accountId,
      n: quick ? 200 : 500,
    });
    results.db.cycleProfile = profile;
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    log(
      `  one client, one job: Tollgate ${fixed(sum(profile.tollgate), 2)} ms (${Object.entries(
        profile.tollgate,
      )
        .map(([k, v]) => `${k} ${fixed(v, 2)}`)
        .join(", ")}), graphile-worker ${fixed(sum(profile.graphileWorker), 2)} ms (${Object.entries(
        profile.graphileWorker,
      )
        .map(([k, v]) => `${k} ${fixed(v, 2)}`)
        .join(", ")})`,
    );
  }
  const scan = await metricsScan();
  results.db.metricsScan = scan;
  log(`  ops_metrics() over ${scan.transfers} transfers and ${scan.jobs} jobs: p50 ${fixed(scan.p50, 1)} ms`);
}

/**
 * What GET /api/ops/metrics costs the database as the tables grow: ops_metrics() includes
 * ledger_check(), which reads every transfer. docs/SCALING.md extrapolates from this.
 */
async function metricsScan() {
  const { databaseUrl } = run;
  return withClient(databaseUrl, async (c) => {
    const { rows } = await c.query(
      "select (select count(*) from transfers)::int as transfers, (select count(*) from jobs)::int as jobs",
    );
    const samples: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const t0 = performance.now();
      await c.query("select * from ops_metrics()");
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return { transfers: rows[0].transfers, jobs: rows[0].jobs, p50: samples[3] ?? 0 };
  });
}

/** Accounts credited over HTTP only when that phase ran; otherwise straight through the SQL function. */
async function ensureCredits(accounts: Account[]) {
  const { databaseUrl, credits: CREDITS } = run;
  await withClient(databaseUrl, async (c) => {
    const database = sqlClientOf(c);
    for (const a of accounts) {
      const balance = await getBalance(database, a.accountId);
      if ((balance?.available ?? 0) < CREDITS / 2)
        await grantCredits(database, {
          accountId: a.accountId,
          amount: CREDITS,
          ref: `bench-${randomUUID()}`,
        });
    }
  });
}

export async function dbHotAccount(hot: Account, spread: Account[]) {
  const { results, log, seconds, databaseUrl, hotConnections: HOT_CONNECTIONS } = run;
  await ensureCredits([hot, ...spread]);
  log(
    `hot account, SQL: create_job from ${HOT_CONNECTIONS} connections, one account against ${spread.length}`,
  );
  const hotAccount = await compareHotAccount({
    url: databaseUrl,
    hotAccount: hot.accountId,
    spreadAccounts: spread.map((a) => a.accountId),
    connections: HOT_CONNECTIONS,
    seconds: seconds * 2,
  });
  results.db = { ...(results.db ?? {}), hotAccount };
  log(
    `  one account ${fixed(hotAccount.hot.perSecond, 0)} creates/s p50 ${fixed(hotAccount.hot.p50)} ms; ${hotAccount.accounts} accounts ${fixed(hotAccount.spread.perSecond, 0)} creates/s p50 ${fixed(hotAccount.spread.p50)} ms`,
  );
}
