// The end-to-end phase: wrangler dev as the all-in-one role, jobs from submit to succeeded through
// the local queue consumer, with the statements and SQL function calls that took.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { withClient } from "../../scripts/lib/stack.ts";
import { FINISHED_JOB_STATUSES } from "../../src/db/schema/jobs.ts";
import { fixed, rotation, run } from "./context.ts";
import { createAccounts, grant } from "./fixtures.ts";
import { runLoad, settle } from "./http-load.ts";

export async function endToEndPhase(script: string) {
  const {
    results,
    log,
    database,
    databaseUrl,
    adminToken: ADMIN_TOKEN,
    jobBody: JOB_BODY,
    credits: CREDITS,
    e2eJobs: E2E_JOBS,
    e2eConnections: E2E_CONNECTIONS,
    addStatements,
  } = run;
  const [account] = await createAccounts(databaseUrl, { accounts: 1, keysPerAccount: 20 });
  if (!account) throw new Error("no account");
  const key = rotation(account.keys);
  log("starting wrangler dev, all-in-one (API + queue consumer)");
  const { stack: wrangler, tally } = await run.startStack({
    script,
    name: "all-in-one",
    vars: { MVP_WORKER_ENABLED: "true" },
  });
  const stack = {
    neonStats: wrangler.neonStats,
    tally,
    database,
    url: wrangler.url,
    adminToken: ADMIN_TOKEN,
    databaseUrl,
  };
  try {
    await grant(stack, account.accountId, CREDITS);
    await settle(stack);
    const calls = async () => functionCalls();
    const callsBefore = await calls();
    const statsBefore = (await wrangler.neonStats()).databases?.[database]?.statements ?? 0;
    const batchesBefore = tally.snapshot().batches.jobs;
    log(`end to end: ${E2E_JOBS} echo jobs submitted at c=${E2E_CONNECTIONS}, waiting for all to finish`);
    const started = performance.now();
    const submitted = await runLoad({
      url: wrangler.url,
      connections: E2E_CONNECTIONS,
      amount: E2E_JOBS,
      request: {
        method: "POST",
        path: "/api/jobs",
        build: () => ({
          headers: {
            authorization: `Bearer ${key()}`,
            "idempotency-key": randomUUID(),
            "content-type": "application/json",
          },
          body: JOB_BODY,
        }),
      },
    });
    const created = submitted.statuses["201"] ?? 0;
    const deadline = Date.now() + 180_000;
    let finished = 0;
    while (Date.now() < deadline) {
      finished = await withClient(databaseUrl, async (c) =>
        Number(
          (
            await c.query("select count(*) as n from jobs where account_id = $1 and status = any($2)", [
              account.accountId,
              FINISHED_JOB_STATUSES,
            ])
          ).rows[0].n,
        ),
      );
      if (finished >= created) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const waited = (performance.now() - started) / 1000;
    await settle(stack);
    const statsAfter = (await wrangler.neonStats()).databases?.[database]?.statements ?? 0;
    const batchesAfter = tally.snapshot().batches.jobs;
    // Closing the stack stops wrangler and then the local Neon server, which ends its connections; a
    // backend flushes its function statistics when it exits: the counts read next are complete.
    await wrangler.close();
    const callsAfter = await calls();
    const row = await withClient(
      databaseUrl,
      async (c) =>
        (
          await c.query(
            `select count(*) filter (where status = 'succeeded') as succeeded,
         extract(epoch from max(finished_at) - min(created_at)) as span,
         percentile_cont(0.5) within group (order by extract(epoch from finished_at - created_at)) as p50,
         percentile_cont(0.99) within group (order by extract(epoch from finished_at - created_at)) as p99
       from jobs where account_id = $1`,
            [account.accountId],
          )
        ).rows[0],
    );
    const batches = batchesAfter.batches - batchesBefore.batches;
    const consumerStatements = batchesAfter.statements - batchesBefore.statements;
    const fnCalls: Record<string, number> = {};
    for (const name of Object.keys(callsAfter))
      fnCalls[name] = (callsAfter[name] ?? 0) - (callsBefore[name] ?? 0);
    results.endToEnd = {
      jobs: created,
      succeeded: Number(row.succeeded),
      finished,
      connections: E2E_CONNECTIONS,
      waitedSeconds: waited,
      spanSeconds: Number(row.span),
      jobsPerSecond: Number(row.succeeded) / Number(row.span),
      p50Seconds: Number(row.p50),
      p99Seconds: Number(row.p99),
      statementsPerJob: created > 0 ? (statsAfter - statsBefore) / created : null,
      consumer: {
        batches,
        jobsPerBatch: batches > 0 ? (batchesAfter.messages - batchesBefore.messages) / batches : null,
        statementsPerBatch: batches > 0 ? consumerStatements / batches : null,
      },
      functionCalls: fnCalls,
    };
    if ((fnCalls.complete_jobs ?? 0) > 0) {
      addStatements("capture (consumer batch: complete_jobs)", fnCalls.complete_jobs ?? 0, batches, {
        unit: "consumer batch",
        note: `${fnCalls.capture_hold ?? 0} holds captured inside ${fnCalls.complete_jobs} complete_jobs() statements; claim_jobs ${fnCalls.claim_jobs ?? 0}`,
      });
    }
    const e = results.endToEnd;
    log(
      `  ${e.succeeded}/${e.jobs} succeeded in ${fixed(e.spanSeconds, 1)} s: ${fixed(e.jobsPerSecond, 0)} jobs/s, p50 ${fixed(e.p50Seconds, 2)} s, p99 ${fixed(e.p99Seconds, 2)} s; ${batches} batches, ${fixed(e.consumer.statementsPerBatch ?? Number.NaN, 2)} statements/batch`,
    );
    if (e.succeeded < e.jobs)
      results.notes.push(
        `End to end: only ${e.succeeded} of ${e.jobs} jobs succeeded within ${fixed(waited, 0)} s.`,
      );
  } finally {
    await wrangler.close();
  }
}

/** Calls per SQL function so far in the bench database (pg_stat_user_functions; track_functions = pl). */
async function functionCalls() {
  const { databaseUrl } = run;
  const names = ["create_job", "claim_jobs", "complete_jobs", "capture_hold", "release_hold", "place_hold"];
  return withClient(databaseUrl, async (c) => {
    const { rows } = await c.query(
      "select funcname, sum(calls)::int as calls from pg_stat_user_functions where funcname = any($1) group by funcname",
      [names],
    );
    return Object.fromEntries(names.map((n) => [n, Number(rows.find((r) => r.funcname === n)?.calls ?? 0)]));
  });
}
