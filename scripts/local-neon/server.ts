// The local Neon server: Neon's HTTP /sql endpoint and WebSocket proxy over any real Postgres, so dev
// and tests run the same driver code path as production, plus statement counters for tests.
//
//   POST /sql            Neon's HTTP query endpoint (target database from Neon-Connection-String)
//   GET  /v2?address=h:p WebSocket tunnel to a Postgres at h:p (neonConfig.wsProxy)
//   GET  /_stats         { connections: { "<url without password>": Counters }, databases: { "<name>": Counters } }
//   POST /_stats/reset   clears counters (?database=<name> for just one database)
//   GET  /_health        { ok: true }
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createSqlHandler, send } from "./http-sql.ts";
import { createStats, type StatsSnapshot } from "./stats.ts";
import { createWsProxy } from "./ws-proxy.ts";

export type LocalNeonStats = StatsSnapshot;
export type LocalNeon = {
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): LocalNeonStats;
  resetStats(database?: string): void;
};
export type LocalNeonOptions = {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** `true` logs to the console; a function receives each line instead. */
  log?: boolean | ((line: string) => void);
};

export async function startLocalNeon({
  port = 0,
  host = "127.0.0.1",
  log = false,
}: LocalNeonOptions = {}): Promise<LocalNeon> {
  const say: (line: string) => void =
    typeof log === "function" ? log : log ? (line) => console.log(`local-neon: ${line}`) : () => {};
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
      sql.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent)
          send(res, 500, { message: String((error as Error | undefined)?.message ?? error) });
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

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const publicHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${publicHost}:${actualPort}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    close() {
      closing ??= (async () => {
        proxy.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
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
