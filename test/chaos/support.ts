import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { createDatabase } from "../../src/db/client.ts";
import { ledgerDatabase, rawSql } from "../support/ledger.ts";

/**
 * Faults the chaos suite injects, each one real rather than mocked: an endpoint nobody listens on, a
 * Postgres that refuses the connection, a server process that dies in the middle of a statement,
 * a statement cancelled by its timeout. Everything here acts on the test file's own database.
 */

/** The local Neon server is gone: every statement fails before it reaches Postgres. */
export const NEON_GONE = { LOCAL_NEON_URL: "http://127.0.0.1:1" };

/** The local Neon server answers, but Postgres refuses the connection (nothing listens on port 1). */
export const POSTGRES_REFUSES = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/tollgate" };

/**
 * The same database, reached through connections whose every statement is cancelled after `ms` by
 * Postgres itself (`statement_timeout`, set as a connection option, so only requests using this URL
 * are affected; the local Neon server keeps one pool per connection string).
 */
export function withStatementTimeout(ms: number) {
  const url = new URL(env.DATABASE_URL);
  url.searchParams.set("options", `-c statement_timeout=${ms}`);
  return { DATABASE_URL: url.toString() };
}

/**
 * True when a connection option really sets the timeout (a real Postgres; the embedded PGlite
 * fallback ignores startup options).
 */
export async function statementTimeoutApplies(ms: number): Promise<boolean> {
  const { DATABASE_URL } = withStatementTimeout(ms);
  const database = createDatabase({ DATABASE_URL, LOCAL_NEON_URL: env.LOCAL_NEON_URL });
  const rows = (await database.sql.query("select current_setting('statement_timeout') as value")) as {
    value: string;
  }[];
  // Back to the test file's own URL for everything after this (the driver's endpoint is global).
  ledgerDatabase();
  return rows[0]?.value === `${ms}ms`;
}

/** What a failed request could have left behind; compared before and after. */
export async function storedCounts() {
  const [row] = await rawSql<Record<string, string>>(
    `select (select count(*) from jobs) as jobs,
       (select count(*) from idempotency_keys) as idempotency_keys,
       (select count(*) from transfers) as transfers,
       (select count(*) from stripe_events) as stripe_events,
       (select coalesce(sum(debits_pending + debits_posted + credits_pending + credits_posted), 0) from ledger_accounts) as ledger_totals,
       (select count(*) from jobs where status <> 'queued') as jobs_moved`,
  );
  return row as Record<string, string>;
}

let faults = 0;

/**
 * A trigger that injects `fault` into the statement that inserts a matching row into `table`, after
 * everything that statement did before that insert: a fault in the middle of the statement. Returns
 * the function that removes it.
 *   cancel  the server process serving the statement is signalled to cancel it (pg_cancel_backend on
 *           itself), as an operator or a failover interrupts a running statement
 *   sleep   the statement sleeps 2 s, for a statement_timeout to cancel it
 * (Terminating the backend instead would be the harsher fault, but the local Neon server does not
 * survive a backend that dies under a checked-out client; see docs/SCALING.md, "Faults".)
 */
export async function injectFault(options: {
  table: "jobs" | "stripe_events" | "transfers";
  when: string;
  fault: "cancel" | "sleep";
}) {
  faults += 1;
  const name = `chaos_fault_${faults}`;
  const action =
    options.fault === "cancel"
      ? "PERFORM pg_cancel_backend(pg_backend_pid()); PERFORM pg_sleep(1);"
      : "PERFORM pg_sleep(2);";
  await rawSql(
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF ${options.when} THEN ${action} END IF;
       RETURN NEW;
     END $$`,
  );
  await rawSql(
    `CREATE TRIGGER ${name} BEFORE INSERT ON ${options.table} FOR EACH ROW EXECUTE FUNCTION ${name}()`,
  );
  return async () => {
    await rawSql(`DROP TRIGGER IF EXISTS ${name} ON ${options.table}`);
    await rawSql(`DROP FUNCTION IF EXISTS ${name}()`);
  };
}

/** True when the test database can signal its own server process (a real Postgres, superuser). */
export async function canSignalBackends(): Promise<boolean> {
  const [row] = await rawSql<{ superuser: boolean; pglite: boolean }>(
    "select rolsuper as superuser, version() ilike '%pglite%' as pglite from pg_roles where rolname = current_user",
  );
  return Boolean(row?.superuser) && !row?.pglite;
}

/**
 * Moves holds' expiry into the past, as if their TTL had passed. Transfers are append-only (a trigger
 * refuses any change but pending → posted/voided), so this runs with triggers off for its own
 * transaction only (session_replication_role = replica, superuser): it stands in for the clock.
 */
export async function expireHoldsOf(jobIds: string[], secondsAgo = 1) {
  const sql = ledgerDatabase().sql;
  await sql.transaction((tx) => [
    tx.query("set local session_replication_role = replica"),
    tx.query(
      `update transfers t set expires_at = now() - make_interval(secs => $2)
       from jobs j where j.id = any($1::uuid[]) and t.id = j.hold_id and t.status = 'pending'`,
      [jobIds, secondsAgo],
    ),
  ]);
  const [row] = await rawSql<{ n: string }>(
    "select count(*) as n from jobs j join transfers t on t.id = j.hold_id where j.id = any($1::uuid[]) and t.expires_at > now()",
    [jobIds],
  );
  expect(row?.n).toBe("0");
}

/** Moves Idempotency-Keys past their 24 h expiry, as if a day had passed. */
export async function expireIdempotencyKeys(accountId: string, keys: string[]) {
  await rawSql(
    `update idempotency_keys set created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour'
     where account_id = $1 and key = any($2::text[])`,
    [accountId, keys],
  );
}

/** Every response of the suite is either what the route documents or a problem document, never HTML. */
export async function expectServerError(response: Response) {
  expect(response.status, await response.clone().text()).toBeGreaterThanOrEqual(500);
  expect(response.status).toBeLessThan(600);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  const body = (await response.json()) as { status: number; code: string; request_id: string };
  expect(body.status).toBe(response.status);
  expect(body.request_id).toBe(response.headers.get("x-request-id"));
  // A problem document never quotes SQL, connection strings or parameters.
  expect(JSON.stringify(body)).not.toMatch(/postgres:\/\/|select |insert |statement_timeout|127\.0\.0\.1/i);
  return body;
}
