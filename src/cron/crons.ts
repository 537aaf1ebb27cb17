/**
 * The cron schedule, in one place. A test asserts it equals `[triggers].crons` in wrangler.toml, so a
 * schedule cannot be added on one side and silently never run.
 */
export const CRONS = {
  /** heartbeat through the queue, outbox/lease sweeper, metrics snapshot, alert evaluation */
  everyMinute: "* * * * *",
  /** Stripe reconciliation and the self smoke check */
  hourly: "0 * * * *",
} as const;

export type CronName = keyof typeof CRONS;

export const CRON_LIST: string[] = Object.values(CRONS);

export function cronName(expression: string): CronName | undefined {
  return (Object.keys(CRONS) as CronName[]).find((name) => CRONS[name] === expression);
}
