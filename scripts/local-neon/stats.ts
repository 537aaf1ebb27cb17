// Statement counters, so tests can assert how many round trips a request really cost.

export type Counters = { requests: number; statements: number; ws_statements: number };
export type Target = { key: string; database: string };
export type StatsSnapshot = { connections: Record<string, Counters>; databases: Record<string, Counters> };
export type Stats = ReturnType<typeof createStats>;

/**
 * HTTP and WebSocket traffic must land on the same key, but a WebSocket only reveals host, port, user
 * and database (from the startup message), so both sides are reduced to that form. The password and
 * query parameters (the driver adds application_name) never appear in a key.
 */
export function targetOf({
  user,
  host,
  port,
  database,
}: {
  user: string;
  host: string;
  port: string | number;
  database: string;
}): Target {
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const key = `postgres://${encodeURIComponent(user)}@${hostPart}:${port}/${encodeURIComponent(database)}`;
  return { key, database };
}

export function targetOfUrl(connectionString: string): Target {
  const url = new URL(connectionString);
  const user = decodeURIComponent(url.username) || "postgres";
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || user;
  return targetOf({ user, host: url.hostname, port: url.port || 5432, database });
}

export function createStats() {
  const connections = new Map<string, Counters & { database: string }>();
  const databases = new Map<string, Counters>();

  const blank = (): Counters => ({ requests: 0, statements: 0, ws_statements: 0 });

  return {
    add(target: Target, delta: Partial<Counters>) {
      const conn = connections.get(target.key) ?? { ...blank(), database: target.database };
      const db = databases.get(target.database) ?? blank();
      connections.set(target.key, conn);
      databases.set(target.database, db);
      for (const [field, n] of Object.entries(delta)) {
        const name = field as keyof Counters;
        conn[name] += n ?? 0;
        db[name] += n ?? 0;
      }
    },

    snapshot(): StatsSnapshot {
      const strip = ({ requests, statements, ws_statements }: Counters): Counters => ({
        requests,
        statements,
        ws_statements,
      });
      return {
        connections: Object.fromEntries([...connections].map(([k, v]) => [k, strip(v)])),
        databases: Object.fromEntries([...databases].map(([k, v]) => [k, strip(v)])),
      };
    },

    /** Only `database`'s counters; all when omitted. */
    reset(database?: string) {
      if (database === undefined) {
        connections.clear();
        databases.clear();
        return;
      }
      databases.delete(database);
      for (const [key, conn] of connections) if (conn.database === database) connections.delete(key);
    },
  };
}
