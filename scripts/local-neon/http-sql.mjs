// Neon's HTTP /sql endpoint, as spoken by @neondatabase/serverless's neon(): one JSON request per query
// (or per transaction batch), answered with raw text values that the driver parses itself.
import pg from "pg";
import { targetOfUrl } from "./stats.mjs";

/** The driver parses values by type id; parsing here too would lose int8 past 2^53 and numeric scale. */
const RAW_TEXT = { getTypeParser: () => (/** @type {string} */ value) => value };

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

/**
 * @param {{ stats: ReturnType<typeof import("./stats.mjs").createStats>, log: (line: string) => void }} deps
 */
export function createSqlHandler({ stats, log }) {
  /** @type {Map<string, pg.Pool>} */
  const pools = new Map();

  /** One small pool per connection string, so one server can front many databases at once. */
  function poolFor(/** @type {string} */ connectionString) {
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

  /**
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   */
  async function handle(req, res) {
    const started = Date.now();
    let label = "?";
    try {
      const connectionString = header(req, "neon-connection-string");
      if (!connectionString) throw new BadRequest("missing Neon-Connection-String header");
      let target;
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

      let payload;
      if (Array.isArray(body?.queries)) {
        const queries = body.queries.map(checkQuery);
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
      send(res, 400, errorBody(/** @type {Error} */ (error)));
      log(`POST /sql ${label} 400 ${Date.now() - started}ms: ${/** @type {Error} */ (error).message}`);
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
 * @template T
 * @param {pg.Pool} pool
 * @param {(client: pg.PoolClient) => Promise<T>} fn
 */
async function withClient(pool, fn) {
  const client = await pool.connect();
  /** @type {Error | undefined} */
  let broken;
  // A backend terminated mid-statement makes the checked-out client emit `error`; without a listener
  // that would end the whole server.
  const onError = (/** @type {Error} */ error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    return await fn(client);
  } catch (error) {
    const fatal =
      error instanceof pg.DatabaseError && (error.severity === "FATAL" || error.code?.startsWith("57P"));
    if (!(error instanceof pg.DatabaseError) || fatal) broken = /** @type {Error} */ (error);
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

/**
 * @template T
 * @param {pg.PoolClient} client
 * @param {string} begin
 * @param {() => Promise<T>} fn
 */
async function inTransaction(client, begin, fn) {
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
 * @param {pg.PoolClient} client
 * @param {{ query: string, params: unknown[] }} query
 * @param {boolean} arrayMode
 */
async function run(client, { query, params }, arrayMode) {
  /** @type {pg.QueryArrayConfig & { queryMode: "extended" }} */
  const config = { text: query, values: params, rowMode: "array", queryMode: "extended" };
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

/** @param {import("node:http").IncomingMessage} req */
function beginStatement(req) {
  const parts = ["BEGIN"];
  const isolation = header(req, "neon-batch-isolation-level");
  if (isolation) {
    const level = ISOLATION_LEVELS[/** @type {keyof typeof ISOLATION_LEVELS} */ (isolation)];
    if (!level) throw new BadRequest(`unknown Neon-Batch-Isolation-Level: ${isolation}`);
    parts.push(`ISOLATION LEVEL ${level}`);
  }
  const readOnly = header(req, "neon-batch-read-only");
  if (readOnly) parts.push(readOnly === "true" ? "READ ONLY" : "READ WRITE");
  const deferrable = header(req, "neon-batch-deferrable");
  if (deferrable) parts.push(deferrable === "true" ? "DEFERRABLE" : "NOT DEFERRABLE");
  return parts.join(" ");
}

/** @param {any} value */
function checkQuery(value) {
  if (typeof value?.query !== "string")
    throw new BadRequest("request body needs {query, params} or {queries}");
  if (value.params !== undefined && !Array.isArray(value.params))
    throw new BadRequest("params must be an array");
  return {
    query: /** @type {string} */ (value.query),
    params: /** @type {unknown[]} */ (value.params ?? []),
  };
}

/** @param {Error} error */
function errorBody(error) {
  /** @type {Record<string, unknown>} */
  const body = { message: error.message };
  if (error instanceof pg.DatabaseError) {
    for (const field of ERROR_FIELDS) {
      const value = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (error))[field];
      if (value !== undefined) body[field] = value;
    }
  }
  return body;
}

/** @param {import("node:http").IncomingMessage} req */
async function readJson(req) {
  const chunks = [];
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

/**
 * @param {import("node:http").IncomingMessage} req
 * @param {string} name lower case
 */
function header(req, name) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * @param {import("node:http").ServerResponse} res
 * @param {number} status
 * @param {unknown} payload
 */
export function send(res, status, payload) {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
  });
  res.end(JSON.stringify(payload));
}
