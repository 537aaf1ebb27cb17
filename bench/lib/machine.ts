// The machine and versions a result was measured on: a ratio only means something next to these.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import pg from "pg";

const require = createRequire(import.meta.url);

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")).version;
  } catch {
    // Packages whose exports hide package.json: find it next to the entry point.
    const entry = require.resolve(name);
    const root = entry.slice(
      0,
      entry.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length,
    );
    return JSON.parse(readFileSync(`${root}package.json`, "utf8")).version;
  }
}

export type Machine = {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  versions: {
    node: string;
    wrangler: string;
    postgres: string;
    autocannon: string;
    graphileWorker: string;
  };
};

export async function describeMachine(adminUrl: string): Promise<Machine> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  let postgres: string;
  try {
    postgres = (await client.query("show server_version")).rows[0].server_version;
  } finally {
    await client.end();
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    versions: {
      node: process.version,
      wrangler: packageVersion("wrangler"),
      postgres,
      autocannon: packageVersion("autocannon"),
      graphileWorker: packageVersion("graphile-worker"),
    },
  };
}
