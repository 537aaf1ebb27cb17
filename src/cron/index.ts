import { reconcile } from "../billing/reconcile.ts";
import { runLegacyPoller } from "../jobs/legacy-poller.ts";
import { sweepStaleJobs } from "../jobs/sweeper.ts";
import { runAlerts } from "../ops/alerts/evaluate.ts";
import { sendHeartbeat } from "../ops/heartbeat.ts";
import { takeSnapshot } from "../ops/snapshots.ts";
import type { Services } from "../services.ts";
import { logEvent } from "../telemetry/log.ts";
import { type CronName, cronName } from "./crons.ts";

export type CronTask = { name: string; run: (services: Services) => Promise<unknown> };

/**
 * What each schedule runs. Tasks run independently: one failing task is logged and reported but does
 * not stop the others, and the tick as a whole fails so the platform records it.
 */
export const CRON_TASKS: Record<CronName, CronTask[]> = {
  everyMinute: [
    { name: "jobs.sweep", run: (services) => sweepStaleJobs(services) },
    { name: "jobs.legacy_poller", run: (services) => runLegacyPoller(services) },
    { name: "ops.heartbeat", run: (services) => sendHeartbeat(services) },
    { name: "ops.snapshot", run: (services) => takeSnapshot(services) },
    { name: "ops.alerts", run: (services) => runAlerts(services) },
  ],
  // Repairs what missed webhooks left out.
  hourly: [{ name: "stripe.reconcile", run: (services) => reconcile(services) }],
};

export async function runScheduled(controller: ScheduledController, services: Services) {
  const name = cronName(controller.cron);
  if (!name) {
    logEvent("cron.unknown", { cron: controller.cron });
    return { ran: [], failed: [] as string[] };
  }
  const tasks = CRON_TASKS[name];
  const results = await Promise.allSettled(tasks.map((task) => task.run(services)));
  const failed: string[] = [];
  results.forEach((result, i) => {
    const task = tasks[i];
    if (!task) return;
    if (result.status === "rejected") {
      failed.push(task.name);
      logEvent("cron.task_failed", { cron: name, task: task.name, error: String(result.reason) });
    }
  });
  logEvent("cron.tick", { cron: name, tasks: tasks.map((t) => t.name), failed });
  if (failed.length > 0) throw new Error(`cron ${name}: ${failed.join(", ")} failed`);
  return { ran: tasks.map((t) => t.name), failed };
}
