import { recordHeartbeats } from "../jobs/heartbeat.ts";
import type { HeartbeatMessage } from "../jobs/messages.ts";
import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { deploymentName } from "../telemetry/release.ts";

/** The role the legacy poller records heartbeats under: it runs inside the cron, not a consumer. */
export const LEGACY_POLLER_ROLE = "legacy-poller";

export type HeartbeatOptions = { now?: Date };

export type HeartbeatOutcome = { via: "queue" | "legacy_poller" | "none"; deployment: string };

/**
 * The every-minute heartbeat (docs/ARCHITECTURE.md, Operations): a `{kind: "heartbeat"}` message through the
 * jobs queue, which the consumer records in `worker_heartbeats`. Its age therefore measures the whole path —
 * producer, queue, consumer, database — not just this cron. Without Queues (the legacy poller, which runs
 * inside this very cron) it is recorded directly, since the cron being alive is the poller being alive. A
 * send that fails throws: the tick fails and is reported, and the age keeps growing.
 */
export async function sendHeartbeat(
  { env, config, database }: Services,
  options: HeartbeatOptions = {},
): Promise<HeartbeatOutcome> {
  const deployment = deploymentName(env, config);
  const queue = env.JOBS_QUEUE;
  if (queue) {
    const message: HeartbeatMessage = {
      kind: "heartbeat",
      sent_at: (options.now ?? new Date()).toISOString(),
      deployment,
    };
    await queue.send(message);
    return { via: "queue", deployment };
  }
  if (config.LEGACY_QUEUE_WORKER_ENABLED) {
    await recordHeartbeats(database, LEGACY_POLLER_ROLE, [deployment]);
    return { via: "legacy_poller", deployment };
  }
  logEvent("ops.heartbeat_skipped", { reason: "no JOBS_QUEUE binding and no legacy poller", deployment });
  return { via: "none", deployment };
}
