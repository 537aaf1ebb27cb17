import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type NeonQueryFunction, neon, neonConfig, Pool } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import ws from "ws";
import { startEmbeddedPostgres } from "../../scripts/local-neon/embedded.ts";
import { type LocalNeon, startLocalNeon } from "../../scripts/local-neon/server.ts";
import { targetOfUrl } from "../../scripts/local-neon/stats.ts";
import { FrontendCounter } from "../../scripts/local-neon/ws-proxy.ts";
import { testDatabaseUrl, withDatabase } from "./postgres.ts";

const adminUrl = testDatabaseUrl();
const database = `tollgate_neon_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const databaseUrl = (() => {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
})();

let server: LocalNeon;
let sql: NeonQueryFunction<false, false>;
const pools: Pool[] = [];

async function counters() {
  const response = await fetch(`${server.url}/_stats`);
  const body = (await response.json()) as ReturnType<LocalNeon["stats"]>;
  return body.databases[database];
}

async function resetCounters() {
  await fetch(`${server.url}/_stats/reset?database=${database}`, { method: "POST" });
}

function wsPool() {
  const pool = new Pool({ connectionString: databaseUrl, max: 2 });
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  await withDatabase(adminUrl, (client) => client.query(`create database "${database}"`));
  await withDatabase(databaseUrl, (client) =>
    client.query(`
      create table accounts (id serial primary key, email text not null constraint accounts_email_key unique);
      create table notes (id serial primary key, body text)`),
  );
  server = await startLocalNeon();
  neonConfig.fetchEndpoint = () => `${server.url}/sql`;
  neonConfig.webSocketConstructor = ws;
  neonConfig.wsProxy = (host, port) => `127.0.0.1:${server.port}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
  sql = neon(databaseUrl);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end().catch(() => {})));
  await server?.close();
  await withDatabase(adminUrl, (client) =>
    client.query(`drop database if exists "${database}" with (force)`),
  );
});

describe("HTTP /sql through neon()", () => {
  it("returns int8 past 2^53 and numeric exactly", async () => {
    const [row] =
      await sql`select 9007199254740993::int8 as big, ${"12345678901234567890.123456789"}::numeric as n`;
    expect(row).toEqual({ big: "9007199254740993", n: "12345678901234567890.123456789" });
    expect(BigInt(row?.big)).toBe(9007199254740993n);
  });

  it("parses jsonb, timestamptz, bool, arrays, bytea and null on the driver side", async () => {
    const doc = { a: [1, "two", null], nested: { é: true }, big: 12.5 };
    const [row] = await sql`
      select ${JSON.stringify(doc)}::jsonb as doc,
             '2024-02-29T12:34:56.789Z'::timestamptz as at,
             true as yes, false as no,
             ${[1, 2, 3]}::int[] as ints,
             ${["a,b", 'quote"d', "😀", "back\\slash"]}::text[] as texts,
             '\\xdeadbeef'::bytea as bytes,
             null::text as nothing`;
    expect(row?.doc).toEqual(doc);
    expect(row?.at).toBeInstanceOf(Date);
    expect((row?.at as Date | undefined)?.toISOString()).toBe("2024-02-29T12:34:56.789Z");
    expect(row?.yes).toBe(true);
    expect(row?.no).toBe(false);
    expect(row?.ints).toEqual([1, 2, 3]);
    expect(row?.texts).toEqual(["a,b", 'quote"d', "😀", "back\\slash"]);
    expect(Buffer.from(row?.bytes as Uint8Array).toString("hex")).toBe("deadbeef");
    expect(row?.nothing).toBeNull();
  });

  it("round-trips unicode text through a table", async () => {
    const body = "héllo 😀 漢字 𠜎 עברית";
    const [inserted] = await sql`insert into notes (body) values (${body}) returning id`;
    const [row] = await sql`select body, length(body) as chars from notes where id = ${inserted?.id}`;
    expect(row).toEqual({ body, chars: [...body].length });
  });

  it("honours arrayMode and fullResults", async () => {
    const rows = await sql.query("select 1 as a, 'x' as b", [], { arrayMode: true });
    expect(rows).toEqual([[1, "x"]]);

    const full = await sql.query("select $1::int + 1 as n", [41], { fullResults: true });
    expect(full.rows).toEqual([{ n: 42 }]);
    expect(full.command).toBe("SELECT");
    expect(full.rowCount).toBe(1);
    expect(full.fields.map((f) => [f.name, f.dataTypeID])).toEqual([["n", 23]]);

    const both = await sql.query("select 1 as a, 2 as a", [], { arrayMode: true, fullResults: true });
    expect(both.rows).toEqual([[1, 2]]);
  });

  it("surfaces a unique violation with its code and constraint", async () => {
    const email = `dup-${Math.random()}@example.com`;
    await sql`insert into accounts (email) values (${email})`;
    const error = await sql`insert into accounts (email) values (${email})`.catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: "NeonDbError",
      code: "23505",
      constraint: "accounts_email_key",
      table: "accounts",
      schema: "public",
      severity: "ERROR",
    });
    expect((error as { detail: string }).detail).toContain(email);
  });

  it("rejects several statements in one query, as Neon does", async () => {
    await expect(sql.query("select 1; select 2")).rejects.toMatchObject({ code: "42601" });
  });

  it("rolls a whole transaction batch back when one statement fails", async () => {
    const email = `tx-${Math.random()}@example.com`;
    const failed = sql
      .transaction([
        sql`insert into accounts (email) values (${email})`,
        sql`insert into accounts (email) values (${email})`,
      ])
      .catch((e: unknown) => e);
    expect(await failed).toMatchObject({ code: "23505" });
    const [row] = await sql`select count(*)::int as n from accounts where email = ${email}`;
    expect(row?.n).toBe(0);
  });

  it("commits a transaction batch and returns one result per query", async () => {
    const email = `ok-${Math.random()}@example.com`;
    const [inserted, counted] = await sql.transaction([
      sql`insert into accounts (email) values (${email}) returning email`,
      sql`select count(*)::int as n from accounts where email = ${email}`,
    ]);
    expect(inserted).toEqual([{ email }]);
    expect(counted).toEqual([{ n: 1 }]);
  });

  it("passes isolation level, read-only and deferrable to Postgres", async () => {
    const [[iso]] = (await sql.transaction([sql`show transaction_isolation`], {
      isolationLevel: "Serializable",
    })) as [Record<string, string>[]];
    expect(iso).toEqual({ transaction_isolation: "serializable" });

    const [[repeatable]] = (await sql.transaction([sql`show transaction_isolation`], {
      isolationLevel: "RepeatableRead",
    })) as [Record<string, string>[]];
    expect(repeatable).toEqual({ transaction_isolation: "repeatable read" });

    const write = sql.transaction([sql`insert into notes (body) values ('nope')`], { readOnly: true });
    await expect(write).rejects.toMatchObject({ code: "25006" });

    const [[ro], [deferrable]] = (await sql.transaction(
      [sql`show transaction_read_only`, sql`show transaction_deferrable`],
      { isolationLevel: "Serializable", readOnly: true, deferrable: true },
    )) as [Record<string, string>[], Record<string, string>[]];
    expect(ro).toEqual({ transaction_read_only: "on" });
    expect(deferrable).toEqual({ transaction_deferrable: "on" });
  });
});

describe("raw protocol", () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/sql`, {
      method: "POST",
      headers: { "Neon-Connection-String": databaseUrl, ...headers },
      body: JSON.stringify(body),
    });

  it("answers with object rows unless Neon-Array-Mode is true", async () => {
    const objects = await post({ query: "select $1::int8 as v, null as n", params: ["7"] });
    expect(await objects.json()).toMatchObject({
      rows: [{ v: "7", n: null }],
      rowAsArray: false,
      command: "SELECT",
    });

    const arrays = await post(
      { queries: [{ query: "select 1 as v", params: [] }] },
      { "Neon-Array-Mode": "true" },
    );
    expect(await arrays.json()).toMatchObject({
      results: [{ rows: [["1"]], rowAsArray: true, rowCount: 1 }],
    });
  });

  it("rejects requests without a connection string and answers CORS preflight", async () => {
    const missing = await fetch(`${server.url}/sql`, { method: "POST", body: '{"query":"select 1"}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toHaveProperty("message");

    const preflight = await fetch(`${server.url}/sql`, { method: "OPTIONS" });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");

    expect(await (await fetch(`${server.url}/_health`)).json()).toEqual({ ok: true });
  });
});

describe("WebSocket proxy through Pool", () => {
  it("runs an interactive transaction", async () => {
    const pool = wsPool();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ id: number }>(
        "insert into notes (body) values ($1) returning id",
        ["interactive"],
      );
      const id = rows[0]?.id;
      const seen = await client.query("select body from notes where id = $1", [id]);
      expect(seen.rows).toEqual([{ body: "interactive" }]);
      await client.query("ROLLBACK");
      const after = await client.query("select count(*)::int as n from notes where id = $1", [id]);
      expect(after.rows).toEqual([{ n: 0 }]);
    } finally {
      client.release();
    }
    const [row] = await sql`select count(*)::int as n from notes where body = 'interactive'`;
    expect(row?.n).toBe(0);
  });

  it("returns int8 and numeric exactly", async () => {
    const { rows } = await wsPool().query("select 9007199254740993::int8 as big, 0.1::numeric + 0.2 as n");
    expect(rows).toEqual([{ big: "9007199254740993", n: "0.3" }]);
  });
});

describe("statement counters", () => {
  beforeEach(resetCounters);

  it("counts HTTP requests and statements per database", async () => {
    await sql`select 1`;
    await sql`select 2`;
    await sql`select ${3}::int`;
    await sql.transaction([sql`select 1`, sql`select 2`, sql`select 3`, sql`select 4`]);

    expect(await counters()).toEqual({ requests: 4, statements: 7, ws_statements: 0 });
    // Keyed without password or query parameters, so HTTP and WebSocket traffic meet under one key.
    const { key } = targetOfUrl(databaseUrl);
    expect(key).not.toContain("?");
    expect(server.stats().connections[key]).toEqual({ requests: 4, statements: 7, ws_statements: 0 });

    await resetCounters();
    expect(await counters()).toBeUndefined();
  });

  it("counts simple and extended-protocol statements on WebSockets", async () => {
    const pool = wsPool();
    await pool.query("select 1"); // simple protocol: one Query message
    await pool.query("select $1::int", [2]); // extended: Parse, Bind, Describe, Execute, Sync
    const client = await pool.connect();
    await client.query("BEGIN");
    await client.query("select $1::text", ["x"]);
    await client.query("COMMIT");
    client.release();

    expect(await counters()).toEqual({ requests: 0, statements: 0, ws_statements: 5 });
  });

  it("resets in process, for one database or all", async () => {
    await sql`select 1`;
    expect(server.stats().databases[database]?.statements).toBe(1);
    server.resetStats("some_other_database");
    expect(server.stats().databases[database]?.statements).toBe(1);
    server.resetStats();
    expect(server.stats()).toEqual({ connections: {}, databases: {} });
  });

  it("finds statements however the client's bytes are split into frames", () => {
    const startup = startupPacket({ user: "alice", database: "ledger" });
    const query = typed("Q", cString("select 1"));
    const extended = Buffer.concat([
      typed("P", Buffer.concat([cString(""), cString("select $1"), Buffer.from([0, 0])])),
      typed("B", Buffer.alloc(12)),
      typed("E", Buffer.concat([cString(""), Buffer.alloc(4)])),
      typed("S", Buffer.alloc(0)),
    ]);
    const stream = Buffer.concat([startup, query, extended, query]);

    for (const size of [1, 3, 7, stream.length]) {
      const seen: { startup?: Record<string, string>; statements: number } = { statements: 0 };
      const counter = new FrontendCounter({
        onStartup: (params) => {
          seen.startup = params;
        },
        onStatement: () => {
          seen.statements++;
        },
      });
      for (let at = 0; at < stream.length; at += size) counter.client(stream.subarray(at, at + size));
      expect(seen).toEqual({ startup: { user: "alice", database: "ledger" }, statements: 3 });
    }
  });
});

describe("embedded PGlite", () => {
  let dataDir: string;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "tollgate-pglite-"));
    embedded = await startEmbeddedPostgres({ dataDir });
  });

  afterAll(async () => {
    await embedded?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("serves the driver over HTTP and WebSocket, and pg directly", async () => {
    const url = embedded?.connectionString ?? "";
    const direct = new pg.Client({ connectionString: url });
    await direct.connect();
    await direct.query("create table if not exists t (id int8 primary key, v text)");
    await direct.end();

    const pgliteSql = neon(url);
    await pgliteSql`insert into t values (${"9007199254740993"}, ${"😀"})`;
    expect(await pgliteSql`select id, v from t`).toEqual([{ id: "9007199254740993", v: "😀" }]);
    expect(server.stats().databases.postgres?.statements).toBeGreaterThanOrEqual(2);

    // Ended here, not in the outer afterAll: PGlite stops first and would kill its idle connections.
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      const { rows } = await pool.query("select count(*)::int as n from t");
      expect(rows).toEqual([{ n: 1 }]);
    } finally {
      await pool.end();
    }
  });
});

function cString(text: string) {
  return Buffer.from(`${text}\0`, "utf8");
}

function typed(type: string, body: Buffer) {
  const header = Buffer.alloc(5);
  header.write(type, 0, "ascii");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function startupPacket(params: Record<string, string>) {
  const body = Buffer.concat([
    ...Object.entries(params).flatMap(([k, v]) => [cString(k), cString(v)]),
    cString(""),
  ]);
  const header = Buffer.alloc(8);
  header.writeInt32BE(body.length + 8, 0);
  header.writeInt32BE(196608, 4);
  return Buffer.concat([header, body]);
}
