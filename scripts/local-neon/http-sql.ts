// Neon's HTTP /sql endpoint, as spoken by @neondatabase/serverless's neon(): one JSON request per query
// (or per transaction batch), answered with raw text values that the driver parses itself.
import type { IncomingMessage, ServerResponse } from "node:http";
import pg from "pg";
import { type Stats, targetOfUrl } from "./stats.ts";

/** The driver parses values by type id; parsing here too would lose int8 past 2^53 and numeric scale. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value };

/** Fields the driver copies from the error body onto its NeonDbError. */
const ERROR_FIELDS = (
  "severity code detail hint position internalPosition internalQuery where schema table column dataType " +
  "constraint file line routine"
).split(" ");

const ISOLATION_LEVELS = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

const MAX_BODY_BYTES = 64 * 1024 * 1024;

class BadRequest extends Error {}

type Query = { query: string; params: unknown[] };

export function createSqlHandler({ stats, log }: { stats: Stats; log: (line: string) => void }) {
  const pools = new Map<string, pg.Pool>();

  /** One small pool per connection string, so one server can front many databases at once. */
  function poolFor(connectionString: string) {
    let pool = pools.get(connectionString);
    if (!pool) {
      pool = new pg.Pool({
        connectionString,
        max: 10,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: 10_000,
        types: RAW_TEXT,
      });
      // An idle client dies when its database is dropped WITH (FORCE); that must not kill the server.
      pool.on("error", () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = Date.now();
    let label = "?";
    try {
      const connectionString = header(req, "neon-connection-string");
      if (!connectionString) throw new BadRequest("missing Neon-Connection-String header");
      let target: ReturnType<typeof targetOfUrl>;
      try {
        target = targetOfUrl(connectionString);
      } catch {
        throw new BadRequest("Neon-Connection-String is not a valid URL");
      }
      label = target.key;
      const body = await readJson(req);
      const arrayMode = header(req, "neon-array-mode") === "true";
      stats.add(target, { requests: 1 });
      const onStatement = () => stats.add(target, { statements: 1 });
      const pool = poolFor(connectionString);

      const batch = (body as { queries?: unknown } | null | undefined)?.queries;
      let payload: unknown;
      if (Array.isArray(batch)) {
        const queries = batch.map(checkQuery);
        const begin = beginStatement(req);
        const results = await withClient(pool, (client) =>
          inTransaction(client, begin, async () => {
            const out = [];
            for (const query of queries) {
              onStatement();
              out.push(await run(client, query, arrayMode));
            }
            return out;
          }),
        );
        payload = { results };
      } else {
        const query = checkQuery(body);
        onStatement();
        payload = await withClient(pool, (client) => run(client, query, arrayMode));
      }
      send(res, 200, payload);
      log(`POST /sql ${label} 200 ${Date.now() - started}ms`);
    } catch (error) {
      send(res, 400, errorBody(error as Error));
      log(`POST /sql ${label} 400 ${Date.now() - started}ms: ${(error as Error).message}`);
    }
  }

  async function close() {
    const all = [...pools.values()];
    pools.clear();
    await Promise.all(all.map((pool) => pool.end().catch(() => {})));
  }

  return { handle, close };
}

/**
 * A client whose statement failed in Postgres is still healthy and goes back to the pool; one that lost
 * its connection is discarded.
 */
async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A backend terminated mid-statement makes the checked-out client emit `error`; without a listener
  // that would end the whole server.
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    return await fn(client);
  } catch (error) {
    const fatal =
      error instanceof pg.DatabaseError && (error.severity === "FATAL" || error.code?.startsWith("57P"));
    if (!(error instanceof pg.DatabaseError) || fatal) broken = error as Error;
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

async function inTransaction<T>(client: pg.PoolClient, begin: string, fn: () => Promise<T>): Promise<T> {
  await client.query(begin);
  try {
    const result = await fn();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/**
 * Neon runs every HTTP query through the extended protocol, so a string holding several statements is
 * rejected there; forcing it here keeps dev from accepting SQL that production refuses.
 */
async function run(client: pg.PoolClient, { query, params }: Query, arrayMode: boolean) {
  const config: pg.QueryArrayConfig & { queryMode: "extended" } = {
    text: query,
    values: params,
    rowMode: "array",
    queryMode: "extended",
  };
  const result = await client.query(config);
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: "text",
  }));
  const rows = arrayMode
    ? result.rows
    : result.rows.map((row) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
  return { fields, command: result.command, rowCount: result.rowCount, rows, rowAsArray: arrayMode };
}

function beginStatement(req: IncomingMessage) {
  const parts = ["BEGIN"];
  const isolation = header(req, "neon-batch-isolation-level");
  if (isolation) {
    const level = ISOLATION_LEVELS[isolation as keyof typeof ISOLATION_LEVELS];
    if (!level) throw new BadRequest(`unknown Neon-Batch-Isolation-Level: ${isolation}`);
    parts.push(`ISOLATION LEVEL ${level}`);
  }
  const readOnly = header(req, "neon-batch-read-only");
  if (readOnly) parts.push(readOnly === "true" ? "READ ONLY" : "READ WRITE");
  const deferrable = header(req, "neon-batch-deferrable");
  if (deferrable) parts.push(deferrable === "true" ? "DEFERRABLE" : "NOT DEFERRABLE");
  return parts.join(" ");
}

function checkQuery(value: unknown): Query {
  const candidate = value as { query?: unknown; params?: unknown } | null | undefined;
  if (typeof candidate?.query !== "string")
    throw new BadRequest("request body needs {query, params} or {queries}");
  if (candidate.params !== undefined && !Array.isArray(candidate.params))
    throw new BadRequest("params must be an array");
  return { query: candidate.query, params: (candidate.params as unknown[] | undefined) ?? [] };
}

function errorBody(error: Error) {
  const body: Record<string, unknown> = { message: error.message };
  if (error instanceof pg.DatabaseError) {
    for (const field of ERROR_FIELDS) {
      const value = (error as unknown as Record<string, unknown>)[field];
      if (value !== undefined) body[field] = value;
    }
  }
  return body;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequest("request body too large");
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BadRequest("request body is not valid JSON");
  }
}

/** `name` in lower case. */
function header(req: IncomingMessage, name: string) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function send(res: ServerResponse, status: number, payload: unknown) {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
  });
  res.end(JSON.stringify(payload));
}
