// Embedded Postgres for dev without a database server: PGlite in this process, reachable over TCP.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export type EmbeddedPostgresOptions = { dataDir?: string; port?: number; host?: string };
export type EmbeddedPostgres = {
  connectionString: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
};

/**
 * PGlite is one Postgres session; with several connections allowed, pglite-socket multiplexes them onto
 * it and runs one transaction at a time. That is slower than a real server but fine for dev, and the
 * local Neon server's pools need more than one connection.
 */
export async function startEmbeddedPostgres({
  dataDir = ".data/pglite",
  port = 0,
  host = "127.0.0.1",
}: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, port, host, maxConnections: 100 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const actualPort = Number(server.getServerConn().split(":").pop());

  let closing: Promise<void> | undefined;
  return {
    // PGlite accepts any user without a password and has the one database, "postgres".
    connectionString: `postgres://postgres@${host}:${actualPort}/postgres`,
    port: actualPort,
    dataDir: dir,
    close() {
      closing ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return closing;
    },
  };
}
