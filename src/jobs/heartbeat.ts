import type { JobsDatabase } from "./store.ts";

/**
 * Records that this consumer received heartbeat messages: one row each in `worker_heartbeats`, in
 * one statement. The age of the newest row is `worker_heartbeat_age_s` (DESIGN §8).
 */
export async function recordHeartbeats(database: JobsDatabase, role: string, deployments: string[]) {
  if (deployments.length === 0) return;
  await database.sql.query(
    "insert into worker_heartbeats (role, deployment) select $1, d from unnest($2::text[]) as d",
    [role, deployments],
  );
}
