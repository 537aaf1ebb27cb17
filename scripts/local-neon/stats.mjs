// Statement counters, so tests can assert how many round trips a request really cost.

/** @typedef {{ requests: number, statements: number, ws_statements: number }} Counters */
/** @typedef {{ key: string, database: string }} Target */

/**
 * HTTP and WebSocket traffic must land on the same key, but a WebSocket only reveals host, port, user
 * and database (from the startup message), so both sides are reduced to that form. The password and
 * query parameters (the driver adds application_name) never appear in a key.
 * @param {{ user: string, host: string, port: string | number, database: string }} parts
 * @returns {Target}
 */
export function targetOf({ user, host, port, database }) {
  const hostPart = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  const key = `postgres://${encodeURIComponent(user)}@${hostPart}:${port}/${encodeURIComponent(database)}`;
  return { key, database };
}

/** @param {string} connectionString */
export function targetOfUrl(connectionString) {
  const url = new URL(connectionString);
  const user = decodeURIComponent(url.username) || "postgres";
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || user;
  return targetOf({ user, host: url.hostname, port: url.port || 5432, database });
}

export function createStats() {
  /** @type {Map<string, Counters & { database: string }>} */
  const connections = new Map();
  /** @type {Map<string, Counters>} */
  const databases = new Map();

  const blank = () => ({ requests: 0, statements: 0, ws_statements: 0 });

  return {
    /**
     * @param {Target} target
     * @param {Partial<Counters>} delta
     */
    add(target, delta) {
      const conn = connections.get(target.key) ?? { ...blank(), database: target.database };
      const db = databases.get(target.database) ?? blank();
      connections.set(target.key, conn);
      databases.set(target.database, db);
      for (const [field, n] of Object.entries(delta)) {
        const name = /** @type {keyof Counters} */ (field);
        conn[name] += n ?? 0;
        db[name] += n ?? 0;
      }
    },

    /** @returns {{ connections: Record<string, Counters>, databases: Record<string, Counters> }} */
    snapshot() {
      /** @param {Counters} counters */
      const strip = ({ requests, statements, ws_statements }) => ({ requests, statements, ws_statements });
      return {
        connections: Object.fromEntries([...connections].map(([k, v]) => [k, strip(v)])),
        databases: Object.fromEntries([...databases].map(([k, v]) => [k, strip(v)])),
      };
    },

    /** @param {string} [database] only this database's counters; all when omitted */
    reset(database) {
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
