// The local Neon server: Neon's HTTP /sql endpoint and WebSocket proxy over any real Postgres, so dev
// and tests run the same driver code path as production, plus statement counters for tests.
//
//   POST /sql            Neon's HTTP query endpoint (target database from Neon-Connection-String)
//   GET  /v2?address=h:p WebSocket tunnel to a Postgres at h:p (neonConfig.wsProxy)
//   GET  /_stats         { connections: { "<url without password>": Counters }, databases: { "<name>": Counters } }
//   POST /_stats/reset   clears counters (?database=<name> for just one database)
//   GET  /_health        { ok: true }
import http from "node:http";
import { createSqlHandler, send } from "./http-sql.mjs";
import { createStats } from "./stats.mjs";
import { createWsProxy } from "./ws-proxy.mjs";

/**
 * @typedef {import("./stats.mjs").Counters} Counters
 * @typedef {{ connections: Record<string, Counters>, databases: Record<string, Counters> }} LocalNeonStats
 * @typedef {{
 *   url: string,
 *   port: number,
 *   close(): Promise<void>,
 *   stats(): LocalNeonStats,
 *   resetStats(database?: string): void,
 * }} LocalNeon
 */

/**
 * @param {{ port?: number, host?: string, log?: boolean | ((line: string) => void) }} [options]
 * @returns {Promise<LocalNeon>}
 */
export async function startLocalNeon({ port = 0, host = "127.0.0.1", log = false } = {}) {
  /** @type {(line: string) => void} */
  const say = typeof log === "function" ? log : log ? (line) => console.log(`local-neon: ${line}`) : () => {};
  const stats = createStats();
  const sql = createSqlHandler({ stats, log: say });
  const proxy = createWsProxy({ stats, log: say });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://local");
    const route = `${req.method} ${url.pathname}`;
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "*",
        "Access-Control-Max-Age": "86400",
      });
      res.end();
    } else if (route === "POST /sql") {
      sql.handle(req, res).catch((error) => {
        if (!res.headersSent) send(res, 500, { message: String(error?.message ?? error) });
      });
    } else if (route === "GET /_stats") {
      send(res, 200, stats.snapshot());
    } else if (route === "POST /_stats/reset") {
      stats.reset(url.searchParams.get("database") ?? undefined);
      send(res, 200, { ok: true });
    } else if (route === "GET /_health") {
      send(res, 200, { ok: true });
    } else {
      send(res, 404, { message: `no route for ${route}` });
    }
  });
  server.on("upgrade", proxy.handleUpgrade);

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(undefined);
    });
  });
  const actualPort = /** @type {import("node:net").AddressInfo} */ (server.address()).port;
  const publicHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${publicHost}:${actualPort}`;

  /** @type {Promise<void> | undefined} */
  let closing;
  return {
    url,
    port: actualPort,
    close() {
      closing ??= (async () => {
        proxy.close();
        const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
        server.closeAllConnections();
        await closed;
        await sql.close();
      })();
      return closing;
    },
    stats: () => stats.snapshot(),
    resetStats: (database) => stats.reset(database),
  };
}
