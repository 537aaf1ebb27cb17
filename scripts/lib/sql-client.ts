// src's typed SQL wrappers (src/db/call.ts) over a `pg` connection, so tools call Tollgate's SQL
// functions exactly as the Worker does, through the same code.
import type pg from "pg";
import type { SqlClient } from "../../src/db/client.ts";

/**
 * The wrappers only ever call `sql.query(text, values)` and read the rows it answers; `pg` parses
 * bigint as text and timestamptz as a Date, as the Neon driver does, so the row parsers see the same.
 */
export function sqlClientOf(client: pg.ClientBase): SqlClient {
  const query = async (text: string, values: unknown[] = []) => (await client.query(text, values)).rows;
  return { sql: { query } } as unknown as SqlClient;
}
