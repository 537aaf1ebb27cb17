import { createApp } from "./app.ts";
import { loadConfig } from "./config/index.ts";
import { runScheduled } from "./cron/index.ts";
import { withInvocationLog } from "./ops/invocations.ts";
import { logEvent } from "./ops/log.ts";
import { runQueue } from "./queue/index.ts";
import { withTelemetry } from "./telemetry/sentry.ts";

const app = createApp();

/**
 * The Worker: HTTP API, queue consumer and cron in one bundle; wrangler environments pick the role
 * (DESIGN §2). Each entry point validates the env and fails closed. Every entry point is logged (one
 * line per request, queue batch and cron invocation) and, with SENTRY_DSN, reported to Sentry.
 */
export default withTelemetry(
  withInvocationLog({
    fetch: app.fetch,

    async queue(batch, env, _ctx) {
      const result = loadConfig(env);
      if (!result.ok || !result.config) {
        // Fail closed without losing work: the messages come back once the config is fixed.
        logEvent("queue.config_invalid", {
          queue: batch.queue,
          problems: result.problems.map((p) => p.rule),
        });
        batch.retryAll({ delaySeconds: 60 });
        return;
      }
      await runQueue(batch, env, result.config);
    },

    async scheduled(controller, env, _ctx) {
      const result = loadConfig(env);
      if (!result.ok || !result.config) {
        logEvent("cron.config_invalid", {
          cron: controller.cron,
          problems: result.problems.map((p) => p.rule),
        });
        throw new Error("config invalid: see /api/ready");
      }
      await runScheduled(controller, env, result.config);
    },
  } satisfies ExportedHandler<Env>),
) satisfies ExportedHandler<Env>;
