import type { Config } from "../config";
import { logEvent } from "../ops/log";
import { type CronName, cronName } from "./crons";

export type CronTask = { name: string; run: (env: Env, config: Config) => Promise<unknown> };

/**
 * What each schedule runs. Tasks run independently: one failing task is logged and reported but does
 * not stop the others, and the tick as a whole fails so the platform records it.
 */
export const CRON_TASKS: Record<CronName, CronTask[]> = {
  everyMinute: [],
  hourly: [],
};

export async function runScheduled(controller: ScheduledController, env: Env, config: Config) {
  const name = cronName(controller.cron);
  if (!name) {
    logEvent("cron.unknown", { cron: controller.cron });
    return { ran: [], failed: [] as string[] };
  }
  const tasks = CRON_TASKS[name];
  const results = await Promise.allSettled(tasks.map((task) => task.run(env, config)));
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
