import { z } from "zod";
import { sqlQuery } from "../db/call.ts";
import type { SqlClient } from "../db/client.ts";

/**
 * Records that this consumer received heartbeat messages: one row each in `worker_heartbeats`, in
 * one statement. The age of the newest row is `worker_heartbeat_age_s`.
 */
export async function recordHeartbeats(database: SqlClient, role: string, deployments: string[]) {
  if (deployments.length === 0) return;
  await sqlQuery(
    database,
    "recordHeartbeats",
    "insert into worker_heartbeats (role, deployment) select $1, d from unnest($2::text[]) as d",
    [role, deployments],
    z.unknown(),
  );
}
